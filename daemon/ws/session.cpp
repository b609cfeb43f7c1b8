// session: see session.h. Message path: do_read → channel::on_message → (backend) send() →
// the coalescing layer under the websocket stream → one socket write for many messages.
//
// Outgoing data frames are framed here (ws/server_frame) and appended to that layer directly:
// a Beast async_write per message cost a syscall and an operation per message. Beast still
// writes the control frames (through the same layer, so the order holds) and, on connections
// that negotiated permessage-deflate, the data frames too (queue_ → do_write, one at a time).
#include "ws/session.h"

#include <unistd.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "backend/backend.h"
#include "route/room_template.h"
#include "ws/close_codes.h"
#include "ws/coalescing_stream.h"
#include "ws/connection_id.h"
#include "ws/deflate_offer.h"
#include "ws/heartbeat.h"
#include "ws/lazy_fifo.h"
#include "ws/rate_limit.h"
#include "ws/server_frame.h"

namespace wsgated::ws {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;

template <class Stream>
class session final : public backend::connection,
                      public server::drainable,
                      public std::enable_shared_from_this<session<Stream>> {
public:
    session(Stream&& stream, session_start&& start)
        : ws_(std::move(stream)),
          worker_(*start.worker),
          hub_(*start.hub),
          snapshot_(std::move(start.snapshot)),
          decision_(std::move(start.decision)),
          remote_(std::move(start.remote)),
          identity_(std::move(start.identity)),
          slot_(std::move(start.slot)),
          early_bytes_(std::move(start.early_bytes)),
          id_(make_connection_id()),
          timer_(ws_.get_executor()),
          heartbeat_(config().server.heartbeat.interval, config().server.heartbeat.timeout,
                     heartbeat::clock::now()),
          rate_(config().server.limits.messages_per_second, rate_limit::clock::now()) {}

    ~session() override {
        leave_hub();
        worker_.detach(this);
    }

    void run(upgrade_request&& req);

    // backend::connection
    const std::string& id() const override { return id_; }
    void send(backend::message m) override;
    void send_copy(std::string_view payload, bool binary) override;
    void close(std::uint16_t code, std::string_view reason) override;
    void resume_reading() override {
        if (!reading_) do_read();
    }
    backend::connection_info info() const override;

    // server::drainable. While the 101 is being written a close would be a second write on the
    // stream (Beast asserts): on_accept closes instead, as soon as it may.
    void drain() override {
        if (connected_) close(close_going_away.code, close_going_away.reason);
    }

private:
    void configure();
    void keep_forwarded_headers(const upgrade_request& req);
    void on_accept(error_code ec);
    void enter_hub();
    void leave_hub();
    void do_read();
    void on_read(error_code ec, std::size_t n);
    void do_write();
    void on_write(error_code ec, std::size_t n);
    bool accepting_sends() const { return !closing_ && !finished_ && ws_.is_open(); }
    bool fits(std::size_t n) const;
    void refuse(backend::message::written_fn on_written);
    void slow_consumer(backend::message::written_fn on_written);
    void send_direct(std::string_view payload, bool binary, backend::message::written_fn done);
    void on_close(error_code ec);
    void finish(error_code ec);
    void over_rate(std::size_t n);
    void fail_inflate(error_code ec);
    void arm_heartbeat();
    void on_heartbeat(error_code ec);
    void on_control(websocket::frame_type kind, beast::string_view payload);

    // Closes the TCP connection under the stream at once (no close handshake).
    void drop_tcp() {
        auto& lowest = beast::get_lowest_layer(ws_);
        error_code ignored;
        if constexpr (requires { lowest.socket(); }) lowest.socket().close(ignored);
        else lowest.close(ignored);
    }

    const config::gateway_config& config() const { return snapshot_->config(); }
    const config::route_config& route() const { return *decision_.route->config; }

    websocket::stream<coalescing_stream<Stream>> ws_;
    beast::flat_buffer buffer_;
    lazy_fifo<backend::message> queue_;  // permessage-deflate only: Beast compresses and frames
    std::size_t queued_bytes_ = 0;
    bool direct_ = true;  // we frame data ourselves (no permessage-deflate on this connection)
    bool writing_ = false;
    bool reading_ = false;
    bool in_read_ = false;  // inside on_read: the next read flushes what this one produced
    bool closing_ = false;
    bool finished_ = false;
    bool connected_ = false;  // the channel is open, so it must see on_close
    server::worker& worker_;
    hub::hub& hub_;
    server::snapshot_ptr snapshot_;
    upgrade_decision decision_;
    std::shared_ptr<backend::channel> channel_;
    std::string remote_;
    auth::identity identity_;
    std::vector<std::pair<std::string, std::string>> forwarded_;  // route's forward_headers
    net::conn_slot slot_;
    std::string early_bytes_;  // until run(): handed to the coalescing layer
    std::string id_;
    std::chrono::system_clock::time_point connected_at_;
    bool in_hub_ = false;
    boost::asio::steady_timer timer_;
    heartbeat heartbeat_;
    rate_limit rate_;
    bool pinging_ = false;  // Beast allows one ping in flight
    // This route's metric cells, looked up once at accept (a lookup takes a lock).
    metrics::gauge* open_gauge_ = nullptr;
    metrics::counter* received_ = nullptr;
    metrics::counter* sent_ = nullptr;
};

template <class Stream>
void session<Stream>::configure() {
    const auto& lim = config().server.limits;
    if constexpr (requires { beast::get_lowest_layer(ws_).expires_never(); })
        beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts below take over
    websocket::stream_base::timeout t{};
    t.handshake_timeout = lim.handshake_timeout;  // the 101 write and the closing handshake
    t.idle_timeout = websocket::stream_base::none();  // our heartbeat does it, with RTTs
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
        on_control(kind, payload);  // only called inside our own read, which holds a reference
    });
    ws_.set_option(deflate_options(route().compression));
    ws_.read_message_max(lim.max_message_size);
    ws_.auto_fragment(false);
    ws_.set_option(websocket::stream_base::decorator(
        [proto = decision_.subprotocol](websocket::response_type& res) {
            res.set(beast::http::field::server, "wsgated/" WSGATED_VERSION);
            if (!proto.empty()) res.set(beast::http::field::sec_websocket_protocol, proto);
        }));
}

template <class Stream>
void session<Stream>::run(upgrade_request&& req) {
    worker_.attach(this->shared_from_this());
    ws_.next_layer().set_owner(this->weak_from_this());
    ws_.next_layer().set_read_scratch(worker_.read_scratch());
    ws_.next_layer().unread(early_bytes_);
    std::string().swap(early_bytes_);
    configure();
    keep_forwarded_headers(req);
    // HyBi-08..12 use the same handshake as version 13; Beast only speaks 13.
    if (decision_.version == 8) req.set(beast::http::field::sec_websocket_version, "13");
    if (route().compression.enabled) {
        drop_unanswerable_deflate_offers(req);
        // Beast accepts any offer left: then it must frame (compress) the data itself.
        direct_ = !offers_deflate(req);
    }
    ws_.async_accept(req, beast::bind_front_handler(&session::on_accept, this->shared_from_this()));
}

template <class Stream>
void session<Stream>::on_accept(error_code ec) {
    if (ec) return finish(ec);
    if (worker_.draining()) {  // the drain began while the 101 was being written
        close(close_going_away.code, close_going_away.reason);
        return do_read();  // completes with `closed` when the client answers: finish()
    }
    auto& m = hub_.metrics;
    std::string_view label = route().path;
    open_gauge_ = &m.connections.with({label});
    received_ = &m.messages_received.with({label});
    sent_ = &m.messages_sent.with({label});
    m.connections_total.with({label}).inc();
    open_gauge_->inc();
    connected_ = true;
    connected_at_ = std::chrono::system_clock::now();
    enter_hub();
    // Logged once the id is usable by the control API.
    spdlog::debug("connection {} open route={} remote={}", id_, route().path, remote_);
    channel_ = snapshot_->backends.find(route().backend)
                   ->open(this->shared_from_this(), {worker_.index(), route().events});
    arm_heartbeat();
    do_read();
}

// Visible to the control API and to room publishes from here on; joins the route's rooms.
template <class Stream>
void session<Stream>::enter_hub() {
    auto& local = hub_.local(worker_.index());
    local.add(this);
    hub_.connections.add(id_, worker_.index(), identity_.user);
    in_hub_ = true;
    for (const auto& tmpl : route().rooms) {
        if (auto room = route::expand_room(tmpl, decision_.params, identity_.user, identity_.claims))
            local.join(*room, this);
    }
    for (const auto& room : identity_.rooms) local.join(room, this);
}

// The connect event carries the request headers the route's auth forwards (SPEC §4).
template <class Stream>
void session<Stream>::keep_forwarded_headers(const upgrade_request& req) {
    const auto& auth = route().auth;
    if (auth.type != config::auth_type::http) return;
    for (const auto& name : auth.http.forward_headers) {
        auto it = req.find(name);
        if (it != req.end()) forwarded_.emplace_back(name, std::string(it->value()));
    }
}

template <class Stream>
void session<Stream>::leave_hub() {
    if (!in_hub_) return;
    in_hub_ = false;
    hub_.local(worker_.index()).remove(this);  // leaves every room
    hub_.connections.remove(id_, identity_.user);
}

template <class Stream>
backend::connection_info session<Stream>::info() const {
    backend::connection_info i;
    i.id = id_;
    i.route = route().path;
    i.params = decision_.params;
    i.user = identity_.user;
    i.claims_json = identity_.claims_json;
    i.headers = forwarded_;
    i.remote_address = remote_;
    i.connected_at = connected_at_;
    i.rtt = heartbeat_.last_rtt();
    return i;
}

template <class Stream>
void session<Stream>::arm_heartbeat() {
    if (!heartbeat_.enabled() || finished_) return;
    timer_.expires_at(heartbeat_.deadline());
    timer_.async_wait(beast::bind_front_handler(&session::on_heartbeat, this->shared_from_this()));
}

template <class Stream>
void session<Stream>::on_heartbeat(error_code ec) {
    if (ec || finished_ || closing_) return;  // once closing, timer_ is the close deadline
    switch (heartbeat_.on_timer(heartbeat::clock::now())) {
    case heartbeat::action::reap:
        // A dead peer will not answer a close frame either: drop the TCP connection.
        spdlog::debug("connection {}: no pong or data within the heartbeat timeout, reaped", id_);
        hub_.metrics.heartbeat_timeouts.inc();
        drop_tcp();
        return;
    case heartbeat::action::send_ping:
        if (!pinging_ && !closing_) {
            pinging_ = true;
            ws_.async_ping({}, [self = this->shared_from_this()](error_code) { self->pinging_ = false; });
        }
        break;
    case heartbeat::action::none: break;
    }
    arm_heartbeat();
}

template <class Stream>
void session<Stream>::on_control(websocket::frame_type kind, beast::string_view) {
    auto now = heartbeat::clock::now();
    if (kind == websocket::frame_type::ping && ws_.next_layer().buffered() > config().server.limits.send_queue) {
        // Beast answers each ping with a pong and, the coalescing layer taking writes at once,
        // reads on: a client that pings and never reads would grow our buffer without bound.
        // Over send_queue it is a slow consumer; a close frame would only queue behind, so the
        // TCP connection goes.
        hub_.metrics.slow_consumer_closes.inc();
        spdlog::debug("connection {}: pings while {} bytes wait to be read, dropped", id_,
                      ws_.next_layer().buffered());
        return drop_tcp();
    }
    if (kind != websocket::frame_type::pong) return heartbeat_.on_activity(now);
    if (auto rtt = heartbeat_.on_pong(now))
        hub_.metrics.ping_rtt.observe(std::chrono::duration<double>(*rtt).count());
}

template <class Stream>
void session<Stream>::do_read() {
    if (finished_) return;
    reading_ = true;
    ws_.async_read(buffer_, beast::bind_front_handler(&session::on_read, this->shared_from_this()));
}

template <class Stream>
void session<Stream>::on_read(error_code ec, std::size_t n) {
    reading_ = false;
    if (ec.category() == boost::system::error_code(boost::beast::zlib::error::invalid_block_type).category())
        return fail_inflate(ec);
    if (ec) return finish(ec);
    auto now = heartbeat::clock::now();
    heartbeat_.on_activity(now);
    received_->inc();
    hub_.metrics.bytes_received.inc(n);
    if (!rate_.allow(now)) return over_rate(n);
    if (closing_) {  // sent before the client saw our close frame: nowhere to deliver it
        buffer_.consume(n);
        hub_.metrics.messages_dropped.with({"connection_closing"}).inc();
        return do_read();
    }
    auto data = buffer_.cdata();
    std::string_view payload(static_cast<const char*>(data.data()), data.size());
    in_read_ = true;
    bool more = channel_->on_message(payload, ws_.got_binary());
    in_read_ = false;
    buffer_.consume(n);
    if (more && !reading_) do_read();  // on_message may have closed, which reads already
    // A read that waits for the client flushes the answers (coalescing_stream); without one
    // (a paused backend), flush at the end of this turn.
    if (!reading_) ws_.next_layer().flush_soon();
}

// Compressed data that does not inflate: Beast fails the stream without a close frame, and
// refuses async_close after that. RFC 6455 wants a close: write 1007 ourselves, unless a write
// of ours is in flight (then the bytes could interleave, and only the TCP close is left).
template <class Stream>
void session<Stream>::fail_inflate(error_code ec) {
    static const char frame[] = {'\x88', '\x02', '\x03', '\xEF'};  // close, 1007
    if (writing_ || closing_) {  // mid-frame, or our close frame is out already (one only)
        drop_tcp();
        return finish(ec);
    }
    ws_.next_layer().append({frame, sizeof frame});
    ws_.next_layer().async_drain([self = this->shared_from_this(), ec](error_code) {
        self->drop_tcp();
        self->finish(ec);
    });
}

// Over messages_per_second: the route's rate_limit says close (1008) or drop (counted).
template <class Stream>
void session<Stream>::over_rate(std::size_t n) {
    buffer_.consume(n);
    hub_.metrics.rate_limited.inc();
    if (route().rate_limit == config::rate_limit_action::close)
        close(close_rate_limited.code, close_rate_limited.reason);
    else
        hub_.metrics.messages_dropped.with({"rate_limited"}).inc();
    if (!reading_) do_read();  // after a close: reads until the client's close frame arrives
}

template <class Stream>
void session<Stream>::send(backend::message m) {
    if (!accepting_sends()) return refuse(std::move(m.on_written));
    if (direct_) return send_direct(*m.data, m.binary, std::move(m.on_written));
    if (!fits(m.data->size())) return slow_consumer(std::move(m.on_written));
    queued_bytes_ += m.data->size();
    queue_.push_back(std::move(m));
    if (!writing_) do_write();
}

template <class Stream>
void session<Stream>::send_copy(std::string_view payload, bool binary) {
    if (!accepting_sends()) return refuse(nullptr);
    if (direct_) return send_direct(payload, binary, nullptr);
    send(backend::message{std::make_shared<const std::string>(payload), binary, nullptr});
}

// Framed here and appended to the coalescing layer: no allocation, no operation per message.
template <class Stream>
void session<Stream>::send_direct(std::string_view payload, bool binary,
                                  backend::message::written_fn done) {
    if (!fits(payload.size())) return slow_consumer(std::move(done));
    auto header = data_frame_header(binary, payload.size());
    auto& out = ws_.next_layer();
    out.append({reinterpret_cast<const char*>(header.bytes.data()), header.size});
    out.append(payload, std::move(done));
    sent_->inc();
    hub_.metrics.bytes_sent.inc(payload.size());
    // Outside a read (a reply, a publish) the write starts now: the first member of a room hears
    // first, and what follows while it is in flight joins the next write.
    if (!in_read_) out.flush();  // inside a read, the next read flushes (see on_read)
}

// Never an unbounded buffer: what is queued and not yet taken by the socket stays within
// server.limits.send_queue.
template <class Stream>
bool session<Stream>::fits(std::size_t n) const {
    return queued_bytes_ + ws_.next_layer().buffered() + n <= config().server.limits.send_queue;
}

template <class Stream>
void session<Stream>::refuse(backend::message::written_fn on_written) {
    hub_.metrics.messages_dropped.with({"connection_closing"}).inc();
    if (on_written) on_written(false);
}

// The message is dropped and the client closed 1008.
template <class Stream>
void session<Stream>::slow_consumer(backend::message::written_fn on_written) {
    hub_.metrics.slow_consumer_closes.inc();
    hub_.metrics.messages_dropped.with({"slow_consumer"}).inc();
    if (on_written) on_written(false);
    close(close_slow_consumer.code, close_slow_consumer.reason);
}

template <class Stream>
void session<Stream>::do_write() {
    writing_ = true;
    const auto& m = queue_.front();
    ws_.binary(m.binary);
    // The handler keeps the buffer alive: finish() may clear the queue while this write runs.
    ws_.async_write(boost::asio::buffer(*m.data),
                    [self = this->shared_from_this(), keep = m.data](error_code ec, std::size_t n) {
                        self->on_write(ec, n);
                    });
}

template <class Stream>
void session<Stream>::on_write(error_code ec, std::size_t) {
    writing_ = false;
    if (finished_) return;  // the queue was already cleared and counted
    if (ec) return finish(ec);
    std::size_t size = queue_.front().data->size();
    queued_bytes_ -= size;
    sent_->inc();
    hub_.metrics.bytes_sent.inc(size);
    // Popped before the callback runs: it may send (and so push or start the next write).
    auto done = std::move(queue_.front().on_written);
    queue_.pop_front();
    // Beast's write ends when the coalescing layer has the bytes; the callback is promised the
    // socket, so it waits there for them.
    if (done) ws_.next_layer().append({}, std::move(done));
    if (!queue_.empty() && !closing_ && !writing_) do_write();
}

template <class Stream>
void session<Stream>::close(std::uint16_t code, std::string_view reason) {
    if (closing_ || finished_) return;
    closing_ = true;
    // A close frame queued behind a write that the client never reads (a slow consumer) would
    // wait forever: past the deadline, drop the TCP connection.
    timer_.expires_after(config().server.limits.handshake_timeout);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (ec || self->finished_) return;
        spdlog::debug("connection {}: close handshake not done in time, dropped", self->id_);
        self->drop_tcp();
    });
    websocket::close_reason cr;
    cr.code = code;
    cr.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), cr.reason.max_size()));
    ws_.async_close(cr, beast::bind_front_handler(&session::on_close, this->shared_from_this()));
    // The client's close frame arrives through a read: resume one if a backend paused it.
    if (!reading_ && connected_) do_read();
}

template <class Stream>
void session<Stream>::on_close(error_code ec) {
    // The pending read completes with `closed` once the client answers, and calls finish().
    if (ec) finish(ec);
}

template <class Stream>
void session<Stream>::finish(error_code ec) {
    if (finished_) return;
    finished_ = true;
    auto reason = ws_.reason();
    std::uint16_t code = reason.code != websocket::close_code::none ? reason.code : 1006;
    if (ec != websocket::error::closed)
        spdlog::debug("connection {} ended: {}", id_, ec.message());
    spdlog::debug("connection {} closed code={}", id_, code);
    leave_hub();
    if (connected_) {
        channel_->on_close(code, std::string_view(reason.reason.data(), reason.reason.size()));
        open_gauge_->dec();
    }
    // Replies still queued can no longer be delivered: say so in the metrics (and to whoever
    // waits for one to be written).
    auto left = std::move(queue_);
    queue_.clear();
    if (!left.empty()) hub_.metrics.messages_dropped.with({"connection_closed"}).inc(left.size());
    for (auto& m : left)
        if (m.on_written) m.on_written(false);
    queued_bytes_ = 0;
    timer_.cancel();
    worker_.detach(this);
}

}  // namespace

// A plain session runs on the bare socket, bound to its worker's io_context: Beast's
// tcp_stream (a second heap object with two timers, ~0.5 KiB) only served the handshake's
// timeouts, and the type-erased executor cost a copy per operation (docs/performance.md).
void start_session(plain_stream&& stream, session_start&& start) {
    auto req = std::move(start.request);
    error_code ec;
    auto released = stream.release_socket();
    auto protocol = released.local_endpoint(ec).protocol();
    plain_socket socket(start.worker->ioc().get_executor());
    if (!ec) {
        auto fd = released.release(ec);  // on failure `released` still owns (and closes) it
        if (!ec) socket.assign(protocol, fd, ec);
        if (ec && fd >= 0 && !socket.is_open()) ::close(fd);  // owned by nobody now
    }
    if (ec) {  // the client is already gone; its slot is released with `start`
        spdlog::debug("session from {}: {}", start.remote, ec.message());
        return;
    }
    std::make_shared<session<plain_socket>>(std::move(socket), std::move(start))->run(std::move(req));
}

void start_session(tls_stream&& stream, session_start&& start) {
    auto req = std::move(start.request);
    std::make_shared<session<tls_stream>>(std::move(stream), std::move(start))->run(std::move(req));
}

}  // namespace wsgated::ws
