// echo_backend: the built-in backend `echo`, always defined: sends every message back to its
// sender, text as text, binary as binary, in order. Stateless, so one instance serves all
// workers. Used by smoke tests, the conformance suite and the benchmark.
#pragma once

#include "backend/backend.h"

namespace wsgated::backend {

class echo_backend final : public backend {
public:
    void on_connect(const std::shared_ptr<connection>&) override {}
    bool on_message(const std::shared_ptr<connection>& c, std::string_view payload,
                    bool binary) override;
    void on_disconnect(const std::shared_ptr<connection>&, std::uint16_t,
                       std::string_view) override {}
};

}  // namespace wsgated::backend
