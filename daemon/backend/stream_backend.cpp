// stream_backend: see stream_backend.h.
#include "backend/stream_backend.h"

#include <boost/asio/post.hpp>

#include "backend/stream_channel.h"
#include "hub/delivery.h"

namespace wsgated::backend {
namespace {

std::shared_ptr<const stream_shared> make_shared_part(const config::backend_config& cfg,
                                                      const config::gateway_config& gw, core::process_state& state,
                                                      hub::delivery& delivery) {
    auto s = std::make_shared<stream_shared>();
    s->name = cfg.name;
    s->target.unix_socket = !cfg.path.empty();
    s->target.path = cfg.path;
    s->target.host = cfg.host;
    s->target.port = cfg.port;
    s->max_buffer = cfg.max_buffer;
    s->timeout = cfg.timeout;
    s->max_message_size = gw.server.limits.max_message_size;
    s->delivery = &delivery;
    s->state = &state;
    auto& m = state.metrics;
    s->streams = &m.backend_streams.with({cfg.name});
    s->connects_ok = &m.backend_stream_connects.with({cfg.name, "ok"});
    s->connects_failed = &m.backend_stream_connects.with({cfg.name, "failed"});
    s->connects_lost = &m.backend_stream_connects.with({cfg.name, "lost"});
    s->events_ok = &m.backend_requests.with({cfg.name, "ok"});
    s->unreachable = &m.backend_requests.with({cfg.name, "unreachable"});
    s->pauses = &m.backend_backlog_pauses.with({cfg.name});
    s->dropped_lost = &m.messages_dropped.with({"backend_lost"});
    s->dropped_unavailable = &m.messages_dropped.with({"backend_unavailable"});
    return s;
}

}  // namespace

stream_backend::stream_backend(const config::backend_config& cfg, const config::gateway_config& gw,
                               core::process_state& state, hub::delivery& delivery)
    : state_(state) {
    auto shared = make_shared_part(cfg, gw, state, delivery);
    streams_ = std::make_unique<core::per_worker<backend_stream>>(state, [&](unsigned w, boost::asio::io_context& ioc) {
        return std::make_shared<backend_stream>(shared, w, ioc);
    });
    // Connects once each worker runs (at startup, before any client; or now, after a reload).
    for (unsigned w = 0; w < streams_->size(); ++w)
        boost::asio::post(state.context(w), [s = streams_->on(w)] { s->start(); });
}

stream_backend::~stream_backend() {
    for (unsigned w = 0; w < streams_->size(); ++w)
        boost::asio::post(state_.context(w), [s = streams_->on(w)] { s->retire(); });
}

std::shared_ptr<channel> stream_backend::open(const std::shared_ptr<connection>& c, const channel_place& where) {
    const auto& stream = streams_->on(where.worker);
    auto ch = std::make_shared<stream_channel>(stream, c, where.events);
    stream->opened(*ch);
    return ch;
}

}  // namespace wsgated::backend
