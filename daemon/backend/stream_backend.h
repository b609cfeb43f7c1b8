// stream_backend: SPEC §4's `stream` backend: one persistent connection per worker (a Unix
// socket `path` or a TCP `address`) multiplexing every connection of that worker on the routes
// to it, in the framing of backend/stream_frame. Each worker's stream is a backend_stream; each
// client connection gets a stream_channel on its worker's stream.
//
// One instance per configured backend and config snapshot, built on the control thread; the
// streams start connecting as soon as their workers run. When the snapshot goes (a reload, once
// no connection uses it any more) the streams write what is queued and close.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/backend_stream.h"
#include "config/gateway_config.h"
#include "core/per_worker.h"
#include "core/process_state.h"

namespace wsgated::hub {
class delivery;
}

namespace wsgated::backend {

class stream_backend final : public backend {
public:
    stream_backend(const config::backend_config& cfg, const config::gateway_config& gw, core::process_state& state,
                   hub::delivery& delivery);
    ~stream_backend() override;

    std::shared_ptr<channel> open(const std::shared_ptr<connection>& c, const channel_place& where) override;
    bool accepting(unsigned worker) const override { return streams_->on(worker)->accepting(); }

private:
    core::process_state& state_;
    std::unique_ptr<core::per_worker<backend_stream>> streams_;
};

}  // namespace wsgated::backend
