// http_backend: SPEC §4's `http` backend: one POST per event (connect, message, disconnect) to
// the backend URL over http_pool's keep-alive connections, the answer acted on (a reply,
// WSGate-Join / -Leave / -Close).
//
// One instance per configured backend and config snapshot, shared by every worker; each worker
// has its own pool (built here, used only on that worker). Per connection, an http_channel
// (http_backend.cpp) keeps one request in flight and a bounded backlog behind it, so the
// backend sees a connection's messages in order, and a full backlog stops reading the client.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "http_client/http_pool.h"
#include "config/gateway_config.h"

#include "core/per_worker.h"
#include "core/process_state.h"

namespace wsgated::hub {
class delivery;
}

namespace wsgated::backend {

// A connection's backlog (the request in flight included): over either bound, the session
// stops reading the client until the backend catches up.
inline constexpr std::size_t backlog_messages = 16;
inline constexpr std::size_t backlog_bytes = 1024 * 1024;

class http_backend final : public backend {
public:
    // Call before any worker can use it (on the control thread, while building a snapshot).
    http_backend(const config::backend_config& cfg, const config::gateway_config& gw,
                 core::process_state& state, hub::delivery& delivery);

    std::shared_ptr<channel> open(const std::shared_ptr<connection>& c,
                                  const channel_place& where) override;

    // What every channel of this backend shares (metric cells, names); kept alive by channels
    // that outlive the backend (a disconnect still being delivered after a reload).
    struct shared;

private:
    std::shared_ptr<const shared> shared_;
    std::unique_ptr<core::per_worker<http_client::http_pool>> pools_;
};

}  // namespace wsgated::backend
