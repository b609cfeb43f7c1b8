// listener: see listener.h.
#include "net/listener.h"

#include <cerrno>

#include <boost/asio/ssl/context.hpp>
#include <spdlog/spdlog.h>


namespace wsgated::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

}  // namespace

std::string endpoint_text(const tcp::endpoint& ep) {
    auto a = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(ep.port());
}

std::string bind_acceptor(tcp::acceptor& acceptor, const config::listen_config& cfg) {
    error_code ec;
    auto fail = [&](const char* what) {
        return "cannot listen on " + cfg.address + ": " + what + ": " + ec.message();
    };
    auto address = asio::ip::make_address(cfg.host == "localhost" ? "127.0.0.1" : cfg.host, ec);
    if (ec) return fail("bad address");
    tcp::endpoint ep(address, cfg.port);
    acceptor.open(ep.protocol(), ec);
    if (ec) return fail("socket");
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    // "[::]:8080" means IPv6 only; an IPv4 listener is configured separately, as in nginx.
    if (address.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
    acceptor.bind(ep, ec);
    if (ec == asio::error::address_in_use)
        return fail("bind") + " (another process listens there: `ss -ltnp 'sport = :" + std::to_string(cfg.port) +
               "'` names it; stop it or change this address in the configuration)";
    if (ec == asio::error::access_denied)
        return fail("bind") + " (ports below 1024 need root or CAP_NET_BIND_SERVICE, which the systemd unit grants)";
    if (ec.value() == EADDRNOTAVAIL)
        return fail("bind") + " (no interface of this machine has that address)";
    if (ec) return fail("bind");
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    return {};
}

listener::listener(asio::io_context& control, config::listen_config cfg,
                   std::vector<core::worker*> workers, accept_fn on_socket, refused_fn on_refused)
    : cfg_(std::move(cfg)),
      acceptor_(control),
      retry_(control),
      workers_(std::move(workers)),
      on_socket_(std::move(on_socket)),
      on_refused_(std::move(on_refused)) {}

std::string listener::bind() { return bind_acceptor(acceptor_, cfg_); }

std::string listener::local_address() const {
    error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    return ec ? cfg_.address : endpoint_text(ep);
}

void listener::start() { do_accept(); }

void listener::stop() {
    stopped_ = true;
    error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
}

void listener::do_accept() {
    if (stopped_) return;
    // The new socket belongs to the next worker's io_context from the start, so all its I/O
    // runs there; only this accept runs on the control thread.
    auto& w = *workers_[next_++ % workers_.size()];
    acceptor_.async_accept(w.ioc(), [self = shared_from_this(), &w](error_code ec, tcp::socket s) {
        if (!ec) {
            // Small WebSocket frames must not wait for Nagle + delayed ACK (measured: ~40 ms
            // per batch of small echoes without it).
            boost::system::error_code ignored;
            s.set_option(tcp::no_delay(true), ignored);
            self->on_socket_(std::move(s), w, self->cfg_);
        }
        self->on_accept(ec);
    });
}

void listener::on_accept(error_code ec) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    if (!ec) return do_accept();
    // Out of descriptors: answer a waiting client 503 with the reserve, then go on accepting
    // (each round serves one client, so this is no spin). Linux takes the descriptor before it
    // looks for a client, so at the limit accept() fails with nobody waiting too: then wait for
    // the next client instead of polling. Anything else: back off briefly.
    bool at_limit = ec == asio::error::no_descriptors || ec.value() == ENFILE;
    if (!at_limit) return retry_later(ec);
    switch (refuse_one()) {
    case refused::one: return do_accept();
    case refused::none_waiting: return wait_for_client();
    case refused::failed: return retry_later(ec);
    }
}

void listener::wait_for_client() {
    acceptor_.async_wait(tcp::acceptor::wait_read, [self = shared_from_this()](error_code e) {
        if (!e && !self->stopped_) self->do_accept();
    });
}

// One client from the backlog, through the reserved descriptor: a 503 written without waiting,
// what it sent read and dropped (closing over unread bytes would reset the answer away), closed.
listener::refused listener::refuse_one() {
    static const std::string answer = [] {
        std::string body = "server at its open-file limit; retry\r\n";
        return "HTTP/1.1 503 Service Unavailable\r\nServer: wsgated\r\nRetry-After: 1\r\nConnection: close\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    }();
    reserve_.release();
    error_code ec;
    tcp::socket s(acceptor_.get_executor());
    acceptor_.non_blocking(true, ec);
    acceptor_.accept(s, ec);
    if (!ec) {
        s.non_blocking(true, ec);
        s.send(asio::buffer(answer), 0, ec);
        char sink[4096];
        s.receive(asio::buffer(sink), 0, ec);
        s.shutdown(tcp::socket::shutdown_both, ec);
        s.close(ec);
        ec = {};
    }
    reserve_.restore();
    if (ec == asio::error::would_block) return refused::none_waiting;
    if (ec) return refused::failed;
    if (on_refused_) on_refused_();
    std::uint64_t suppressed = 0;
    if (log_limit_.allow(suppressed))
        spdlog::warn("accept on {}: out of file descriptors (ulimit -n, LimitNOFILE=): clients get 503{}",
                     local_address(), suppressed ? fmt::format(" ({} more since the last line)", suppressed) : "");
    return refused::one;
}

void listener::retry_later(error_code ec) {
    std::uint64_t suppressed = 0;
    if (log_limit_.allow(suppressed))
        spdlog::warn("accept on {}: {}; retrying in 100ms", local_address(), ec.message());
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([self = shared_from_this()](error_code e) {
        if (!e) self->do_accept();
    });
}

}  // namespace wsgated::net
