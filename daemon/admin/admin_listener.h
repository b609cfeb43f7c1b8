// admin_listener: an admin HTTP listener (SPEC §6), separate from the public ones: admin.listen
// (TCP, optionally TLS) and, when set, admin.control_listen (TCP or a Unix socket) serving /v1. Runs entirely on the control thread: scrapes and API calls are rare next to
// WebSocket traffic, and anything that touches a connection is posted to its worker.
//
// Owned by server::server. Connections are keep-alive HTTP/1.1, bounded in header size, body
// size and idle time.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "admin/admin_router.h"
#include "config/gateway_config.h"
#include "core/log_limiter.h"

namespace wsgated::admin {

class admin_listener : public std::enable_shared_from_this<admin_listener> {
public:
    admin_listener(boost::asio::io_context& control, config::listen_config cfg, admin_state state);

    // Same contract as net::listener::bind(): empty, or a message naming address and error.
    // `key` names the configuration key in that message (admin.listen, admin.control_listen).
    std::string bind(std::string_view key);
    std::string local_address() const;
    const std::string& address() const { return cfg_.address; }
    bool tls() const { return cfg_.tls.has_value(); }
    void start();
    void stop();  // a Unix socket's file is removed

private:
    bool on_unix() const { return !cfg_.unix_path.empty(); }
    void do_accept();
    void on_connection(boost::asio::ip::tcp::socket s);
    void on_connection(boost::asio::local::stream_protocol::socket s);
    void retry_later(boost::system::error_code ec);

    boost::asio::io_context& control_;
    config::listen_config cfg_;
    boost::asio::ip::tcp::acceptor acceptor_;  // one of the two is used
    boost::asio::local::stream_protocol::acceptor unix_acceptor_;
    std::shared_ptr<const admin_state> state_;
    core::log_limiter log_limit_{1};
    bool stopped_ = false;
    // Shared with its connections (all on the control thread): keep-alive ones end at stop().
    std::shared_ptr<bool> stopped_flag_ = std::make_shared<bool>(false);
};

}  // namespace wsgated::admin
