// echo_backend: the built-in backend `echo`, always defined: sends every message back to its
// sender, text as text, binary as binary, in order. Stateless, so one instance serves all
// workers. Used by smoke tests, the conformance suite and the benchmark.
#pragma once

#include "backend/backend.h"

namespace wsgated::backend {

class echo_backend final : public backend {
public:
    std::shared_ptr<channel> open(const std::shared_ptr<connection>& c,
                                  const channel_place& where) override;
};

}  // namespace wsgated::backend
