// session_type: the session class template, shared by the two files that define its members:
// ws/session.cpp (the message path, closing) and ws/session_reload.cpp (what a reload does to an
// open connection). Private to ws/: everyone else sees ws/session.h. session.cpp instantiates
// it for both streams; the extern declarations below keep other files from doing it again.
#pragma once

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "backend/backend.h"
#include "ws/coalescing_stream.h"
#include "ws/connection_facts.h"
#include "ws/heartbeat.h"
#include "ws/outbound.h"
#include "ws/plain_socket.h"
#include "ws/rate_limit.h"
#include "ws/session.h"
#include "ws/session_phase.h"

namespace wsgated::ws::session_detail {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;

template <class Stream>
class session final : public backend::connection,
                      public core::attached,
                      public std::enable_shared_from_this<session<Stream>> {
public:
    using ws_stream = websocket::stream<coalescing_stream<Stream>>;
    using out_verdict = typename outbound<ws_stream>::verdict;

    session(Stream&& stream, session_start&& start)
        : ws_(std::move(stream)),
          worker_(*start.worker),
          sv_(start.sv),
          snapshot_(std::move(start.snapshot)),
          facts_(start.sv.delivery.new_connection_id(), start.decision.route->config,
                 std::move(start.decision.params), std::move(start.identity), std::move(start.remote)),
          slot_(std::move(start.slot)),
          early_bytes_(std::move(start.early_bytes)),
          out_(ws_, sv_.state.metrics, config().server.limits.send_queue),
          timer_(ws_.get_executor()),
          heartbeat_(config().server.heartbeat.interval, config().server.heartbeat.timeout,
                     heartbeat::clock::now()),
          rate_(config().server.limits.messages_per_second, rate_limit::clock::now()) {}

    ~session() override {
        leave_hub();
        worker_.detach(this);
    }

    // The upgrade's answer: the chosen subprotocol and the client's version (13, or 8: HyBi).
    void run(upgrade_request&& req, std::string subprotocol, int version);

    // backend::connection
    const std::string& id() const override { return facts_.id; }
    const std::string& user() const override { return facts_.identity.user; }
    void send(backend::message m) override;
    void send_copy(std::string_view payload, bool binary) override;
    void close(std::uint16_t code, std::string_view reason) override;
    void resume_reading() override {
        if (!reading_) do_read();
    }
    backend::connection_info info() const override { return facts_.info(heartbeat_.last_rtt()); }

    // core::attached. While the 101 is being written a close would be a second write on the
    // stream (Beast asserts): on_accept closes instead, as soon as it may.
    void drain() override {
        if (phase_.is(phase::open)) close(protocol::close_going_away.code, protocol::close_going_away.reason);
    }
    void reconfigure(const core::snapshot_ptr& next) override;

private:
    using phase = session_phase;

    void on_accept(error_code ec);
    void enter_hub();
    void leave_hub();
    void do_read();
    void on_read(error_code ec, std::size_t n);
    void deliver(std::size_t n);
    bool accepting_sends() const { return phase_.is(phase::open) && ws_.is_open(); }
    void slow_consumer() { close(protocol::close_slow_consumer.code, protocol::close_slow_consumer.reason); }
    void on_close(error_code ec);
    void finish(error_code ec);
    void over_rate(std::size_t n);
    void fail_inflate(error_code ec);
    bool adopt(const core::snapshot_ptr& next);
    void apply_limits(const config::gateway_config& was);
    void move_to(backend::backend& b);
    void moved_on(backend::backend& b);
    void arm_heartbeat();
    void on_heartbeat(error_code ec);
    void on_control(websocket::frame_type kind, beast::string_view payload);
    void arm_close_deadline();

    void to(phase next) { phase_.to(next); }
    void drop_tcp() {  // at once, no close handshake: the bare socket, or the TCP stream under TLS
        boost::system::error_code ignored;
        auto& lowest = boost::beast::get_lowest_layer(ws_);
        if constexpr (requires { lowest.socket(); }) lowest.socket().close(ignored);
        else lowest.close(ignored);
    }

    const config::gateway_config& config() const { return snapshot_->config(); }
    const config::route_config& route() const { return *facts_.route; }

    ws_stream ws_;
    beast::flat_buffer buffer_;
    phase_tracker phase_;
    bool reading_ = false;  // an async_read is in flight
    bool moving_ = false;   // between backend definitions: the old one answers what it has (move_to)
    bool holding_ = false;  // a message read while moving waits in buffer_ for the new one
    bool pinging_ = false;  // Beast allows one ping in flight
    bool in_hub_ = false;   // entered hub::delivery, not yet left
    bool bad_close_code_ = false;  // the client's close frame had a code Beast lets by (≥ 5000): 1002
    std::shared_ptr<session> paused_self_;  // while a backend paused reading (deliver)
    std::size_t held_ = 0;                  // the held message's size in buffer_
    core::worker& worker_;
    services sv_;
    core::snapshot_ptr snapshot_;
    std::shared_ptr<backend::channel> channel_;
    connection_facts facts_;
    core::conn_slot slot_;
    std::string early_bytes_;  // until run(): handed to the coalescing layer
    outbound<ws_stream> out_;
    boost::asio::steady_timer timer_;
    heartbeat heartbeat_;
    rate_limit rate_;
    // This route's metric cells, looked up once at accept (a lookup takes a lock).
    metrics::gauge* open_gauge_ = nullptr;
    metrics::counter* received_ = nullptr;
};

extern template class session<plain_socket>;
extern template class session<tls_stream>;

}  // namespace wsgated::ws::session_detail
