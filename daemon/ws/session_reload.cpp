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
    backend::backend* before = snapshot_->backends->find(route().backend);
    if (!adopt(next)) return close(protocol::close_service_restart.code, protocol::close_service_restart.reason);
    backend::backend* after = snapshot_->backends->find(route().backend);
    if (after != before && !moving_) move_to(*after);
}

// Takes `next` when this connection's route is still there with the same backend: false (and
// nothing changed) when it is not.
template <class Stream>
bool session<Stream>::adopt(const core::snapshot_ptr& next) {
    const auto& routes = next->config().routes;
    auto it = std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.path == route().path; });
    if (it == routes.end() || it->backend != route().backend) {
        spdlog::debug("connection {}: its route {} is {} by a reload: closed 1012", id(), route().path,
                      it == routes.end() ? "removed" : "moved to another backend");
        return false;
    }
    auto was = snapshot_;  // keeps the old route's config alive until the limits are compared
    snapshot_ = next;
    facts_.route = &*it;
    apply_limits(was->config());
    return true;
}

// Only what changed: a reload that leaves the heartbeat alone must not restart its cadence
// (reloads more often than the interval would then never ping), nor refill the rate bucket.
template <class Stream>
void session<Stream>::apply_limits(const config::gateway_config& was) {
    const auto& lim = config().server.limits;
    const auto& old = was.server.limits;
    const auto& hb = config().server.heartbeat;
    auto now = heartbeat::clock::now();
    if (lim.send_queue != old.send_queue) out_.set_send_queue(lim.send_queue);
    if (lim.max_message_size != old.max_message_size) reader_.set_max_message_size(lim.max_message_size);
    if (lim.messages_per_second != old.messages_per_second) rate_ = rate_limit(lim.messages_per_second, now);
    if (hb.interval == was.server.heartbeat.interval && hb.timeout == was.server.heartbeat.timeout) return;
    heartbeat_.retime(hb.interval, hb.timeout, now);
    if (heartbeat_.enabled()) arm_heartbeat();  // moving the expiry cancels the old wait
    else timer_.cancel();
}

// The old channel answers what was sent to it and says goodbye; only then does the new one say
// hello and get the next message (one read meanwhile is held in held_), so the connection's
// messages reach the backend in order, one definition after the other.
template <class Stream>
void session<Stream>::move_to(backend::backend& b) {
    moving_ = true;
    auto old = std::move(channel_);
    old->on_moved([self = this->shared_from_this(), to = &b] { self->moved_on(*to); });
}

// `b` lives as long as snapshot_, which names it.
template <class Stream>
void session<Stream>::moved_on(backend::backend& b) {
    moving_ = false;
    if (!phase_.is(phase::open)) return;  // closed meanwhile: the old channel said goodbye already
    channel_ = b.open(this->shared_from_this(), {worker_.index(), route().events});
    if (held_) {
        auto held = std::move(held_);
        if (!channel_->on_message(*held, held_binary_)) return out_.flush_soon();  // paused again
    }
    if (!reading_ && phase_.is(phase::open)) do_read();  // what else the client sent comes next
}

// session_type.h declares the class extern: its members defined here are instantiated here.
template void session<plain_socket>::reconfigure(const core::snapshot_ptr&);
template bool session<plain_socket>::adopt(const core::snapshot_ptr&);
template void session<plain_socket>::apply_limits(const config::gateway_config&);
template void session<plain_socket>::move_to(backend::backend&);
template void session<plain_socket>::moved_on(backend::backend&);
template void session<tls_socket>::reconfigure(const core::snapshot_ptr&);
template bool session<tls_socket>::adopt(const core::snapshot_ptr&);
template void session<tls_socket>::apply_limits(const config::gateway_config&);
template void session<tls_socket>::move_to(backend::backend&);
template void session<tls_socket>::moved_on(backend::backend&);

}  // namespace wsgated::ws::session_detail
