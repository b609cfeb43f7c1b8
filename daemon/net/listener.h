// listener: one public listen address (plain or TLS). Accepts on the control thread and hands
// each new socket to a worker, round-robin, for life (see docs/architecture.md for why a
// single acceptor rather than SO_REUSEPORT). What happens to the socket then is the accept
// callback's business (server/ starts a ws handshake): net/ knows nothing of WebSocket.
//
// Owned by server::server; bind() and start()/stop() are called on the control thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/gateway_config.h"
#include "core/log_limiter.h"
#include "core/worker.h"
#include "net/descriptor_reserve.h"

namespace wsgated::net {

// Opens, binds and listens `acceptor` on cfg's address. Empty on success, else a message naming
// the address and the OS error ("cannot listen on 127.0.0.1:80: bind: Permission denied").
std::string bind_acceptor(boost::asio::ip::tcp::acceptor& acceptor, const config::listen_config& cfg);
// "127.0.0.1:8080", "[::1]:8080".
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep);

class listener : public std::enable_shared_from_this<listener> {
public:
    // On the control thread, for each accepted socket: the socket already belongs to `worker`'s
    // io_context; `cfg` is this listener's current settings (TLS context, proxy_protocol).
    using accept_fn = std::function<void(boost::asio::ip::tcp::socket, core::worker& worker,
                                         const config::listen_config& cfg)>;

    // At the descriptor limit: a client was answered 503 and closed (the caller counts it).
    using refused_fn = std::function<void()>;

    listener(boost::asio::io_context& control, config::listen_config cfg,
             std::vector<core::worker*> workers, accept_fn on_socket, refused_fn on_refused = {});

    // Opens, binds and listens. On failure returns a message naming the address and the OS
    // error ("cannot listen on 127.0.0.1:80: Permission denied").
    std::string bind();
    // The bound address, with the real port when the config said port 0.
    std::string local_address() const;
    bool tls() const { return cfg_.tls.has_value(); }
    const std::string& address() const { return cfg_.address; }
    // A reload's settings for this same address (new certificate, proxy_protocol): applied to
    // the next accepted connection. Control thread.
    void update(const config::listen_config& cfg) { cfg_ = cfg; }

    void start();
    void stop();

private:
    void do_accept();
    void on_accept(boost::system::error_code ec);
    enum class refused { one, none_waiting, failed };
    refused refuse_one();
    void wait_for_client();
    void retry_later(boost::system::error_code ec);

    config::listen_config cfg_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;
    std::vector<core::worker*> workers_;
    accept_fn on_socket_;
    refused_fn on_refused_;
    descriptor_reserve reserve_;
    core::log_limiter log_limit_{1};
    std::size_t next_ = 0;
    bool stopped_ = false;
};

}  // namespace wsgated::net
