// session_type: the session class template, shared by the files that define its members:
// ws/session.cpp (the message path), ws/session_close.cpp (the close handshake and teardown)
// and ws/session_reload.cpp (what a reload does to an open connection). Private to ws/:
// everyone else sees ws/session.h. session.cpp instantiates it for both streams; the extern
// declarations below keep other files from doing it again.
//
// The WebSocket protocol itself is ours (docs/protocol.md): ws/frame_reader reads the client's
// frames, ws/outbound and ws/server_frame write ours, ws/coalescing_stream moves the bytes.
#pragma once

#include <memory>
#include <span>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "backend/backend.h"
#include "ws/coalescing_stream.h"
#include "ws/connection_facts.h"
#include "ws/deflater.h"
#include "ws/frame_reader.h"
#include "ws/heartbeat.h"
#include "ws/inflater.h"
#include "ws/outbound.h"
#include "ws/plain_socket.h"
#include "ws/tls_socket.h"
#include "ws/rate_limit.h"
#include "ws/session.h"
#include "ws/session_phase.h"

namespace wsgated::ws::session_detail {

using error_code = boost::system::error_code;

template <class Stream>
class session final : public backend::connection,
                      public core::attached,
                      public std::enable_shared_from_this<session<Stream>> {
public:
    using io_stream = coalescing_stream<Stream>;
    using out_verdict = typename outbound<io_stream>::verdict;

    session(Stream&& stream, session_start&& start)
        : io_(std::move(stream)),
          worker_(*start.worker),
          sv_(start.sv),
          snapshot_(std::move(start.snapshot)),
          facts_(start.sv.delivery.new_connection_id(), start.decision.route->config,
                 std::move(start.decision.params), std::move(start.identity), std::move(start.remote)),
          slot_(std::move(start.slot)),
          reader_(config().server.limits.max_message_size, nullptr),
          out_(io_, sv_.state.metrics, config().server.limits.send_queue),
          timer_(io_.get_executor()),
          heartbeat_(config().server.heartbeat.interval, config().server.heartbeat.timeout,
                     heartbeat::clock::now()),
          rate_(config().server.limits.messages_per_second, rate_limit::clock::now()) {
        io_.keep_unread(start.early_bytes);  // frames the client sent right behind its request
    }

    ~session() override {
        leave_hub();
        worker_.detach(this);
    }

    // Writes the 101 (with the chosen subprotocol and the permessage-deflate answer) and opens.
    void run(upgrade_request&& req, std::string subprotocol);

    // backend::connection
    std::string_view id() const override { return facts_.id; }
    const std::string& user() const override { return facts_.identity().user; }
    void send(backend::message m) override;
    void send_copy(std::string_view payload, bool binary) override;
    void close(std::uint16_t code, std::string_view reason) override;
    void resume_reading() override {
        if (!reading_) do_read();
    }
    backend::connection_info info() const override { return facts_.info(heartbeat_.last_rtt()); }

    // core::attached
    void drain() override {
        if (phase_.is(phase::open)) close(protocol::close_going_away.code, protocol::close_going_away.reason);
    }
    void reconfigure(const core::snapshot_ptr& next) override;
    std::shared_ptr<core::attached> keep() override { return this->weak_from_this().lock(); }

private:
    using phase = session_phase;
    enum class step { go_on, pause, stop };  // what the read loop does after an event

    // session.cpp: the message path.
    void negotiate(const upgrade_request& req, std::string& extensions);
    void open();
    void enter_hub();
    void leave_hub();
    void do_read();
    void on_receive(error_code ec, std::span<char> bytes);
    void consume(std::span<char> in);
    step on_event(const frame_reader::event& ev);
    step on_message(std::string_view payload, bool binary);
    step deliver(std::string_view payload, bool binary);
    step on_ping(std::string_view payload);
    void on_pong();
    step over_rate();
    bool accepting_sends() const { return phase_.is(phase::open); }
    void slow_consumer() { close(protocol::close_slow_consumer.code, protocol::close_slow_consumer.reason); }
    void arm_heartbeat();
    void on_heartbeat(error_code ec);
    // session_close.cpp: the close handshake, the teardown, the end.
    void on_client_close(std::uint16_t code, std::string_view reason);
    void on_client_error(std::uint16_t code, std::string_view why);
    void teardown();
    void after_drain();
    void arm_close_deadline();
    void finish(error_code ec);
    void drop_tcp();
    // session_reload.cpp
    bool adopt(const core::snapshot_ptr& next);
    void apply_limits(const config::gateway_config& was);
    void move_to(backend::backend& b);
    void moved_on(backend::backend& b);

    void to(phase next) { phase_.to(next); }
    plain_socket& socket() {
        if constexpr (std::is_same_v<Stream, tls_socket>) return io_.next_layer().socket();
        else return io_.next_layer();
    }
    const config::gateway_config& config() const { return snapshot_->config(); }
    const config::route_config& route() const { return *facts_.route; }

    io_stream io_;
    phase_tracker phase_;
    bool reading_ = false;      // a receive is in flight, or the read loop runs (consume)
    bool moving_ = false;       // between backend definitions: the old one answers what it has (move_to)
    bool held_binary_ = false;
    bool in_hub_ = false;       // entered hub::delivery, not yet left
    bool tearing_down_ = false; // the close handshake is over: what the client still sends is dropped
    bool deadline_armed_ = false;
    std::shared_ptr<session> paused_self_;  // while a backend paused reading (deliver)
    std::unique_ptr<std::string> held_;     // a message read while moving, for the new backend
    core::worker& worker_;
    services sv_;
    core::snapshot_ptr snapshot_;
    std::shared_ptr<backend::channel> channel_;
    connection_facts facts_;
    core::conn_slot slot_;
    // permessage-deflate, when the handshake agreed on it (their zlib state comes later still).
    std::unique_ptr<inflater> inflater_;
    std::unique_ptr<deflater> deflater_;
    frame_reader reader_;
    outbound<io_stream> out_;
    // Heartbeat, then the close deadline. Bound to the worker's io_context, not a type-erased
    // executor: 32 bytes less in every connection, and in the wait it has pending.
    boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>,
                                      boost::asio::io_context::executor_type>
        timer_;
    heartbeat heartbeat_;
    rate_limit rate_;
    // What ended the connection, for the backend's disconnect event: the client's close frame,
    // or our failure code; 1006 (none) when the TCP connection just went.
    std::uint16_t end_code_ = 0;
    std::unique_ptr<std::string> end_reason_;  // the client's close reason, if it gave one
    // This route's metric cells, looked up once at accept (a lookup takes a lock).
    metrics::gauge* open_gauge_ = nullptr;
    metrics::counter* received_ = nullptr;
};

extern template class session<plain_socket>;
extern template class session<tls_socket>;

}  // namespace wsgated::ws::session_detail
