// listener: see listener.h.
#include "net/listener.h"

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
    if (ec) return fail("bind");
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    return {};
}

listener::listener(asio::io_context& control, config::listen_config cfg,
                   std::vector<core::worker*> workers, accept_fn on_socket)
    : cfg_(std::move(cfg)),
      acceptor_(control),
      retry_(control),
      workers_(std::move(workers)),
      on_socket_(std::move(on_socket)) {}

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
    if (ec) {
        // EMFILE/ENFILE/ENOBUFS: accepting again at once would spin; back off briefly and let
        // connections close. The client waits in the backlog meanwhile.
        spdlog::warn("accept on {}: {}; retrying in 100ms", local_address(), ec.message());
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([self = shared_from_this()](error_code e) {
            if (!e) self->do_accept();
        });
        return;
    }
    do_accept();
}

}  // namespace wsgated::net
