// session_reload: what a reload does to an open connection (SPEC §1), a part of the session
// (ws/session_type.h) kept apart from its message path in ws/session.cpp.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "backend/backend_set.h"
#include "protocol/close_codes.h"
#include "ws/session_type.h"

namespace wsgated::ws::session_detail {

// SPEC §1: the connection keeps its route (found by its path in the new file), params, user and
// rooms, and takes the new limits, heartbeat and backend definition. A route that is gone, or
// that names another backend now, closes it 1012: the client reconnects to what the file says.
template <class Stream>
void session<Stream>::reconfigure(const core::snapshot_ptr& next) {
    if (next == snapshot_ || !phase_.is(phase::open)) return;  // closing: nothing left to change
    const auto& routes = next->config().routes;
    auto it = std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.path == route().path; });
    if (it == routes.end() || it->backend != route().backend) {
        spdlog::debug("connection {}: its route {} is {} by a reload: closed 1012", facts_.id, route().path,
                      it == routes.end() ? "removed" : "moved to another backend");
        return close(protocol::close_service_restart.code, protocol::close_service_restart.reason);
    }
    backend::backend* before = snapshot_->backends->find(route().backend);
    backend::backend* after = next->backends->find(it->backend);
    snapshot_ = next;  // the old route's config may go with the old snapshot: point at the new one
    facts_.route = &*it;
    apply_limits();
    if (after != before) move_to(*after);
}

template <class Stream>
void session<Stream>::apply_limits() {
    const auto& lim = config().server.limits;
    const auto& hb = config().server.heartbeat;
    auto now = heartbeat::clock::now();
    out_.set_send_queue(lim.send_queue);
    ws_.read_message_max(lim.max_message_size);
    rate_ = rate_limit(lim.messages_per_second, now);
    heartbeat_.retime(hb.interval, hb.timeout, now);
    if (heartbeat_.enabled()) arm_heartbeat();  // moving the expiry cancels the old wait
    else timer_.cancel();
}

// The old channel answers what it has and says goodbye; the new one says hello. Reading was
// maybe paused by the old channel, which no longer resumes it: read on.
template <class Stream>
void session<Stream>::move_to(backend::backend& b) {
    channel_->on_moved();
    channel_ = b.open(this->shared_from_this(), {worker_.index(), route().events});
    if (!reading_ && phase_.is(phase::open)) do_read();
}

// session_type.h declares the class extern: its members defined here are instantiated here.
template void session<plain_socket>::reconfigure(const core::snapshot_ptr&);
template void session<plain_socket>::apply_limits();
template void session<plain_socket>::move_to(backend::backend&);
template void session<tls_stream>::reconfigure(const core::snapshot_ptr&);
template void session<tls_stream>::apply_limits();
template void session<tls_stream>::move_to(backend::backend&);

}  // namespace wsgated::ws::session_detail
