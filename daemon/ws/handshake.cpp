// handshake: see handshake.h.
#include "ws/handshake.h"

#include <optional>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/range/iterator_range.hpp>
#include <spdlog/spdlog.h>

#include "auth/auth_hook.h"
#include "auth/auth_set.h"
#include "backend/backend_set.h"
#include "net/client_address.h"
#include "net/proxy_protocol.h"
#include "ws/demo_page.h"
#include "ws/session.h"
#include "route/router.h"
#include "ws/upgrade.h"

namespace wsgated::ws {
namespace {

namespace beast = boost::beast;
using error_code = boost::system::error_code;

// The handshake's operations happen once per connection: their memory comes from malloc, not
// from the worker thread's cache of operation blocks. From that cache the session's first wait
// would take over a block freed here, sized for Beast's read (~560 bytes), and every idle
// connection would hold it for life (docs/performance.md).
// (std::allocator would not do: Asio maps it to that cache.)
template <class T>
struct heap_allocator {
    using value_type = T;
    heap_allocator() = default;
    template <class U>
    heap_allocator(const heap_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
    template <class U>
    bool operator==(const heap_allocator<U>&) const noexcept { return true; }
};

template <class Handler>
auto once(Handler&& h) {
    return boost::asio::bind_allocator(heap_allocator<void>(), std::forward<Handler>(h));
}

// Which answer a request over the size limits gets: 400 when the request line alone is too
// long (nothing after it was even read), 431 when the header fields are. Once the parser has
// taken the request line it is gone from the buffer, so the parser says how long it was.
http::status oversize_status(const http::request_parser<http::empty_body>& parser,
                             beast::flat_buffer& buf) {
    const auto& req = parser.get();
    if (!req.method_string().empty()) {
        std::size_t line = req.method_string().size() + req.target().size() + 10;  // " " " HTTP/1.1"
        return line > max_request_line ? http::status::bad_request
                                       : http::status::request_header_fields_too_large;
    }
    std::string_view data(static_cast<const char*>(buf.cdata().data()), buf.cdata().size());
    auto eol = data.find("\r\n");
    if (eol == std::string_view::npos || eol > max_request_line) return http::status::bad_request;
    return http::status::request_header_fields_too_large;
}

// The handshake_failures_total{reason} label for each answer (a fixed, documented set).
std::string_view failure_reason(http::status s) {
    switch (s) {
    case http::status::request_header_fields_too_large: return "too_large";
    default: return "bad_request";
    }
}

std::size_t fields_size(const upgrade_request& req) {
    std::size_t n = 0;
    for (const auto& f : req) n += f.name_string().size() + f.value().size() + 4;  // ": " CRLF
    return n;
}

template <class Stream>
class handshake final : public core::attached,
                        public std::enable_shared_from_this<handshake<Stream>> {
public:
    template <class... Args>
    handshake(core::worker& w, core::snapshot_ptr s, services sv, bool proxy, Args&&... args)
        : stream_(std::forward<Args>(args)...), worker_(w), snapshot_(std::move(s)), sv_(sv),
          expect_proxy_(proxy) {}
    ~handshake() override { worker_.detach(this); }

    void run();
    // A drain cuts handshakes in progress: no 101 may be written after it began.
    void drain() override { beast::get_lowest_layer(stream_).close(); }
    std::shared_ptr<core::attached> keep() override { return this->weak_from_this().lock(); }

private:
    void do_proxy_read();
    void on_proxy_read(error_code ec, std::size_t n);
    void start_protocol();
    void on_tls(error_code ec);
    void do_read();
    void on_read(error_code ec, std::size_t);
    void check_request();
    bool admit(std::string& client, core::conn_slot& slot);
    void authenticate(auth::auth_hook& hook);
    void on_auth(auth::auth_outcome&& o);
    void upgrade(auth::identity who);
    void respond(http::status status, std::string body,
                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                 std::string_view reason = {});
    void serve_demo_page();
    void write(http::status status, std::string body, std::string_view type,
               const std::vector<std::pair<std::string, std::string>>& headers,
               std::optional<std::size_t> head_length = std::nullopt);
    void fail(std::string_view reason) { sv_.state.metrics.handshake_failures.with({reason}).inc(); }
    // TLS failed (our alert went, if the socket took it): counted as reason "tls".
    void tls_failed(error_code ec) {
        if constexpr (std::is_same_v<Stream, tls_stream>)
            spdlog::debug("handshake from {}: TLS failed: {}", remote_, stream_.reason().empty() ? ec.message() : stream_.reason());
        fail("tls");
    }
    void on_respond(error_code ec, std::size_t);
    void do_linger();

    Stream stream_;
    core::worker& worker_;
    core::snapshot_ptr snapshot_;
    services sv_;
    bool expect_proxy_;
    boost::asio::ip::address peer_;
    std::string remote_;
    beast::flat_buffer buffer_{max_request_line + max_header_fields + 1024};
    std::optional<http::request_parser<http::empty_body>> parser_;
    std::shared_ptr<http::response<http::string_body>> response_;
    std::chrono::steady_clock::time_point deadline_;  // of the handshake_timeout
    // Between the request and the upgrade (an auth hook may take a while):
    upgrade_decision decision_;
    std::string client_;
    core::conn_slot slot_;
};

template <class Stream>
void handshake<Stream>::run() {
    if (worker_.draining()) return;  // accepted just before the drain: refuse
    worker_.attach(this->shared_from_this());
    auto& tcp = beast::get_lowest_layer(stream_);
    error_code ec;
    auto ep = tcp.socket().remote_endpoint(ec);
    if (ec) return;  // already gone: nothing to answer
    peer_ = ep.address();
    remote_ = net::address_text(peer_) + " port " + std::to_string(ep.port());
    tcp.expires_after(snapshot_->config().server.limits.handshake_timeout);
    deadline_ = std::chrono::steady_clock::now() + snapshot_->config().server.limits.handshake_timeout;
    if (expect_proxy_) return do_proxy_read();
    start_protocol();
}

// PROXY header: read what is there, parse, read more while incomplete. Bytes past the header
// stay in buffer_ and are handed to TLS or to the HTTP parser.
template <class Stream>
void handshake<Stream>::do_proxy_read() {
    auto space = net::max_proxy_header - buffer_.size();
    beast::get_lowest_layer(stream_).async_read_some(
        buffer_.prepare(space), once(beast::bind_front_handler(&handshake::on_proxy_read, this->shared_from_this())));
}

template <class Stream>
void handshake<Stream>::on_proxy_read(error_code ec, std::size_t n) {
    if (ec) return fail(ec == beast::error::timeout ? "timeout" : "closed");
    buffer_.commit(n);
    std::string_view data(static_cast<const char*>(buffer_.cdata().data()), buffer_.size());
    net::proxy_header h;
    std::string why;
    switch (net::parse_proxy_header(data, h, why)) {
    case net::proxy_result::need_more:
        if (buffer_.size() < net::max_proxy_header) return do_proxy_read();
        why = "header too long";
        [[fallthrough]];
    case net::proxy_result::invalid:
        // No HTTP answer: the peer is a load balancer misconfigured, not a client to talk to.
        spdlog::debug("handshake from {}: PROXY protocol: {}", remote_, why);
        fail("proxy_protocol");
        return beast::get_lowest_layer(stream_).close();
    case net::proxy_result::complete: break;
    }
    buffer_.consume(h.length);
    if (h.has_address) {
        peer_ = h.source;
        remote_ = net::address_text(peer_) + " port " + std::to_string(h.source_port);
    }
    start_protocol();
}

template <class Stream>
void handshake<Stream>::start_protocol() {
    if constexpr (std::is_same_v<Stream, tls_stream>) {
        // Bytes already read past a PROXY header are the start of the ClientHello: the engine
        // takes them all (what it does not need yet, it keeps).
        auto early = buffer_.cdata();
        stream_.async_handshake({static_cast<const char*>(early.data()), early.size()},
                                once([self = this->shared_from_this()](error_code ec) {
                                    self->buffer_.consume(self->buffer_.size());
                                    self->on_tls(ec);
                                }));
    } else {
        do_read();
    }
}

template <class Stream>
void handshake<Stream>::on_tls(error_code ec) {
    if (ec == beast::error::timeout) return fail("timeout");
    if (ec) return tls_failed(ec);
    do_read();
}

template <class Stream>
void handshake<Stream>::do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(max_request_line + max_header_fields + 4));
    parser_->body_limit(0);  // an upgrade request has no body
    http::async_read(stream_, buffer_, *parser_,
                     once(beast::bind_front_handler(&handshake::on_read, this->shared_from_this())));
}

template <class Stream>
void handshake<Stream>::on_read(error_code ec, std::size_t) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
        return respond(oversize_status(*parser_, buffer_), "request header too large\n");
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::error::bad_descriptor) {
        spdlog::debug("handshake from {}: {}", remote_, ec.message());
        // Nothing to answer: the peer left, was too slow (slowloris), or a drain cut it.
        return fail(ec == beast::error::timeout ? "timeout" : "closed");
    }
    if constexpr (std::is_same_v<Stream, tls_stream>) {
        if (ec == net::tls_engine::failure()) return tls_failed(ec);  // a record that does not decrypt
    }
    if (ec) return respond(http::status::bad_request, "malformed HTTP request\n");
    check_request();
}

template <class Stream>
void handshake<Stream>::check_request() {
    const auto& req = parser_->get();
    std::size_t line = req.method_string().size() + req.target().size() + 10;  // " " " HTTP/1.1"
    if (line > max_request_line) return respond(http::status::bad_request, "request line too long\n");
    if (fields_size(req) > max_header_fields)
        return respond(http::status::request_header_fields_too_large, "request header too large\n");
    if (wants_demo_page(req, snapshot_->config().server.demo_page)) return serve_demo_page();
    auto decision = decide_upgrade(req, *snapshot_->routes);
    if (!decision.accepted())
        return respond(decision.status, std::move(decision.body), decision.headers, decision.reason);
    auto* backend = snapshot_->backends->find(decision.route->config->backend);
    if (!backend || !backend->accepting(worker_.index()))
        return respond(http::status::service_unavailable, "backend not available\n", {{"Retry-After", "1"}},
                       "backend_unavailable");
    if (!admit(client_, slot_)) return;
    decision_ = std::move(decision);
    if (auto* hook = snapshot_->auth->find(*decision_.route->config)) return authenticate(*hook);
    upgrade({});
}

// The hook runs while this handshake waits (no I/O on the client meanwhile); its time comes
// out of the handshake_timeout.
template <class Stream>
void handshake<Stream>::authenticate(auth::auth_hook& hook) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    auth::auth_input in{parser_->get(), client_, worker_.index(), left};
    hook.check(in, [self = this->shared_from_this()](auth::auth_outcome&& o) { self->on_auth(std::move(o)); });
}

template <class Stream>
void handshake<Stream>::on_auth(auth::auth_outcome&& o) {
    sv_.state.metrics.auth_requests.with({auth::label(o.result)}).inc();
    if (worker_.draining() || !beast::get_lowest_layer(stream_).socket().is_open()) return;
    if (o.accepted) return upgrade(std::move(o.who));
    std::uint64_t suppressed = 0;
    if (sv_.state.auth_refusal_log.allow(suppressed))
        spdlog::info("handshake from {} to {} refused ({}): {}{}", remote_, decision_.route->config->path,
                     o.status, o.why, suppressed ? fmt::format(" ({} similar lines suppressed)", suppressed) : "");
    respond(static_cast<http::status>(o.status), std::move(o.body), o.headers, auth::failure_reason(o.result));
}

template <class Stream>
void handshake<Stream>::upgrade(auth::identity who) {
    // The parser stops at the end of the request: anything past it in buffer_ is the client's
    // first frames, sent without waiting for the 101.
    auto rest = buffer_.cdata();
    session_start start{&worker_, sv_, snapshot_, std::move(decision_), parser_->release(),
                        std::move(client_), std::move(who), std::move(slot_),
                        std::string(static_cast<const char*>(rest.data()), rest.size())};
    worker_.detach(this);
    start_session(std::move(stream_), std::move(start));
}

// The client's address (trusted proxies' headers honoured), then its share of the limits.
template <class Stream>
bool handshake<Stream>::admit(std::string& client, core::conn_slot& slot) {
    const auto& req = parser_->get();
    const auto& srv = snapshot_->config().server;
    std::vector<std::string_view> xff;
    for (const auto& f : boost::make_iterator_range(req.equal_range("X-Forwarded-For")))
        xff.push_back(f.value());
    client = net::address_text(net::client_address(peer_, srv.trusted_proxies, xff, req["X-Real-IP"]));
    switch (sv_.state.limits.acquire(client, srv.limits.max_connections, srv.limits.max_connections_per_ip, slot)) {
    case core::conn_limits::verdict::ok: return true;
    case core::conn_limits::verdict::over_total:
        respond(http::status::service_unavailable, "too many connections\n", {{"Retry-After", "1"}},
                "max_connections");
        return false;
    case core::conn_limits::verdict::over_per_address:
        respond(http::status::too_many_requests, "too many connections from this address\n",
                {{"Retry-After", "1"}}, "max_connections_per_ip");
        return false;
    }
    return false;
}

template <class Stream>
void handshake<Stream>::respond(http::status status, std::string body,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view reason) {
    fail(reason.empty() ? failure_reason(status) : reason);
    write(status, std::move(body), "text/plain; charset=utf-8", headers);
}

// server.demo_page: a browser's plain GET. Not a refusal, so not counted as one. Inline script
// and style only, and connections only to WebSocket URLs.
template <class Stream>
void handshake<Stream>::serve_demo_page() {
    bool head = parser_->get().method() == http::verb::head;
    write(http::status::ok, head ? std::string() : std::string(demo_page_html()), "text/html; charset=utf-8",
          {{"Cache-Control", "no-store"},
           {"Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src ws: wss:"}},
          head ? std::optional<std::size_t>(demo_page_html().size()) : std::nullopt);
}

// head_length: the answer to a HEAD, whose Content-Length is the GET's.
template <class Stream>
void handshake<Stream>::write(http::status status, std::string body, std::string_view type,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              std::optional<std::size_t> head_length) {
    response_ = std::make_shared<http::response<http::string_body>>(status, 11);
    auto& res = *response_;
    res.set(http::field::server, "wsgated/" WSGATED_VERSION);
    res.set(http::field::content_type, type);
    res.set(http::field::connection, "close");
    for (const auto& [k, v] : headers) res.set(k, v);
    res.body() = std::move(body);
    if (head_length) res.content_length(*head_length);
    else res.prepare_payload();
    http::async_write(stream_, res,
                      once(beast::bind_front_handler(&handshake::on_respond, this->shared_from_this())));
}

template <class Stream>
void handshake<Stream>::on_respond(error_code ec, std::size_t) {
    if (ec) return;
    auto& tcp = beast::get_lowest_layer(stream_);
    // Half-close, then read until the client closes (briefly): closing with unread request
    // bytes would send an RST, which can destroy the answer before the client reads it.
    tcp.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) return;
    tcp.expires_after(std::chrono::seconds(2));
    do_linger();
}

template <class Stream>
void handshake<Stream>::do_linger() {
    buffer_.clear();
    beast::get_lowest_layer(stream_).async_read_some(
        buffer_.prepare(4096), [self = this->shared_from_this()](error_code ec, std::size_t) {
            if (!ec) self->do_linger();
        });
}

}  // namespace

void start_handshake(boost::asio::ip::tcp::socket socket, core::worker& worker,
                     core::snapshot_ptr snapshot, const listener_options& options, services sv) {
    bool proxy = options.proxy_protocol;
    if (options.tls) {
        std::make_shared<handshake<tls_stream>>(worker, std::move(snapshot), sv, proxy,
                                                std::move(socket), options.tls->native_handle())->run();
    } else {
        std::make_shared<handshake<plain_stream>>(worker, std::move(snapshot), sv, proxy,
                                                  std::move(socket))->run();
    }
}

}  // namespace wsgated::ws
