// admin_listener: see admin_listener.h.
#include "admin/admin_listener.h"

#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include "net/listener.h"
#include "net/unix_acceptor.h"

namespace wsgated::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto idle_timeout = std::chrono::seconds(30);
constexpr std::uint32_t header_limit = 16 * 1024;
constexpr std::uint64_t body_limit = 16 * 1024 * 1024;  // control API bodies; 413 past it

// One admin HTTP connection: read a request, answer it, repeat while keep-alive.
template <class Stream>
class admin_connection : public std::enable_shared_from_this<admin_connection<Stream>> {
public:
    template <class... Args>
    admin_connection(std::shared_ptr<const admin_state> state, std::shared_ptr<const bool> listener_stopped,
                     Args&&... args)
        : stream_(std::forward<Args>(args)...), state_(std::move(state)), listener_stopped_(std::move(listener_stopped)) {}

    void run() {
        beast::get_lowest_layer(stream_).expires_after(idle_timeout);
        if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](error_code ec) {
                                        if (!ec) self->do_read();
                                    });
        } else {
            do_read();
        }
    }

private:
    void do_read() {
        // A keep-alive connection of a listener that a reload removed or moved ends here: the
        // file no longer serves this address (a control API taken off a network, say).
        if (*listener_stopped_) return;
        parser_.emplace();
        parser_->header_limit(header_limit);
        // The body's limit is set once the token is checked: the parser would refuse a large
        // Content-Length while reading the header, before the token could be checked.
        parser_->body_limit(boost::none);
        beast::get_lowest_layer(stream_).expires_after(idle_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&admin_connection::on_header, this->shared_from_this()));
    }

    // The token is checked on the header: a caller without it gets 401 before any body byte is
    // read (then the connection closes, discarding the body).
    void on_header(error_code ec, std::size_t n) {
        if (ec) return on_read(ec, n);
        if (auto refused = refuse_before_body(parser_->get(), *state_)) {
            refused->keep_alive(false);
            return answer(std::move(*refused));
        }
        // Bodies become WebSocket messages: nothing larger than max_message_size is useful.
        auto limit = std::min<std::uint64_t>(body_limit, state_->config()->server.limits.max_message_size);
        parser_->body_limit(limit);
        if (parser_->content_length() && *parser_->content_length() > limit)
            return on_read(http::error::body_limit, 0);
        if (!beast::iequals(parser_->get()[http::field::expect], "100-continue")) return read_body();
        // curl asks before a body over 1 KiB and otherwise waits a second for the answer.
        continue_ = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
        http::async_write(stream_, *continue_, [self = this->shared_from_this()](error_code e, std::size_t) {
            if (!e) self->read_body();
        });
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&admin_connection::on_read, this->shared_from_this()));
    }

    void on_read(error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout) return;
        if (ec == http::error::body_limit) return answer(error(http::status::payload_too_large, "body too large"));
        if (ec == http::error::header_limit) return answer(error(http::status::request_header_fields_too_large, "header too large"));
        if (ec) return answer(error(http::status::bad_request, "malformed HTTP request"));
        bool head = parser_->get().method() == http::verb::head;
        // Control API calls are answered by a worker: come back to this connection's thread.
        route_admin(parser_->get(), *state_, [self = this->shared_from_this(), head](response res) {
            asio::post(self->stream_.get_executor(), [self, head, res = std::move(res)]() mutable {
                if (head) {
                    auto n = res.body().size();
                    res.body().clear();
                    res.content_length(n);
                }
                self->answer(std::move(res));
            });
        });
    }

    // Answers to requests that could not be read: the connection closes after them.
    response error(http::status s, std::string_view why) { return json_error(reply_to{11, false}, s, why); }

    void answer(response res) {
        if (*listener_stopped_) res.keep_alive(false);
        res_ = std::make_shared<response>(std::move(res));
        http::async_write(stream_, *res_, [self = this->shared_from_this()](error_code ec, std::size_t) {
            if (ec) return;
            if (self->res_->keep_alive()) return self->do_read();
            error_code ignored;
            beast::get_lowest_layer(self->stream_).socket().shutdown(asio::socket_base::shutdown_send, ignored);
            // Read and discard what the client still sends (an oversized body) for a moment:
            // closing with unread bytes would reset the connection before it reads our answer.
            beast::get_lowest_layer(self->stream_).expires_after(std::chrono::seconds(2));
            self->do_linger();
        });
    }

    void do_linger() {
        buffer_.clear();
        beast::get_lowest_layer(stream_).async_read_some(
            buffer_.prepare(64 * 1024), [self = this->shared_from_this()](error_code ec, std::size_t) {
                if (!ec) self->do_linger();
            });
    }

    Stream stream_;
    std::shared_ptr<const admin_state> state_;
    std::shared_ptr<const bool> listener_stopped_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<response> res_;
    std::shared_ptr<http::response<http::empty_body>> continue_;
};

}  // namespace

admin_listener::admin_listener(asio::io_context& control, config::listen_config cfg, admin_state state)
    : control_(control),
      cfg_(std::move(cfg)),
      acceptor_(control),
      unix_acceptor_(control),
      state_(std::make_shared<const admin_state>(std::move(state))) {}

std::string admin_listener::bind(std::string_view key) {
    auto err = on_unix() ? net::bind_unix_acceptor(unix_acceptor_, cfg_.unix_path) : net::bind_acceptor(acceptor_, cfg_);
    return err.empty() ? err : err + " (" + std::string(key) + ")";
}

std::string admin_listener::local_address() const {
    if (on_unix()) return cfg_.address;
    error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    return ec ? cfg_.address : net::endpoint_text(ep);
}

void admin_listener::start() { do_accept(); }

void admin_listener::stop() {
    stopped_ = true;
    *stopped_flag_ = true;
    error_code ec;
    acceptor_.close(ec);
    if (unix_acceptor_.is_open()) {
        unix_acceptor_.close(ec);
        net::remove_unix_socket(cfg_.unix_path);
    }
}

// Out of descriptors and the like: back off instead of spinning on accept(), then wait for a
// client (at the limit Linux fails accept() even with nobody waiting: no polling while idle).
void admin_listener::retry_later(error_code ec) {
    std::uint64_t suppressed = 0;
    if (log_limit_.allow(suppressed))
        spdlog::warn("admin accept: {}; retrying in 100ms{}", ec.message(),
                     suppressed ? fmt::format(" ({} more since the last line)", suppressed) : "");
    auto t = std::make_shared<asio::steady_timer>(control_, std::chrono::milliseconds(100));
    t->async_wait([self = shared_from_this(), t](error_code) {
        if (self->stopped_) return;
        auto again = [self](error_code e) {
            if (!e) self->do_accept();
        };
        if (self->on_unix()) self->unix_acceptor_.async_wait(asio::socket_base::wait_read, again);
        else self->acceptor_.async_wait(tcp::acceptor::wait_read, again);
    });
}

void admin_listener::on_connection(tcp::socket s) {
    if (cfg_.tls)
        std::make_shared<admin_connection<beast::ssl_stream<beast::tcp_stream>>>(state_, stopped_flag_, std::move(s),
                                                                             *cfg_.tls->context)
            ->run();
    else
        std::make_shared<admin_connection<beast::tcp_stream>>(state_, stopped_flag_, std::move(s))->run();
}

void admin_listener::on_connection(asio::local::stream_protocol::socket s) {
    std::make_shared<admin_connection<beast::basic_stream<asio::local::stream_protocol>>>(state_, stopped_flag_,
                                                                                         std::move(s))
        ->run();
}

void admin_listener::do_accept() {
    if (stopped_) return;
    auto accepted = [self = shared_from_this()](error_code ec, auto&& s) {
        if (self->stopped_) return;
        if (ec) return self->retry_later(ec);
        self->on_connection(std::move(s));
        self->do_accept();
    };
    if (on_unix())
        unix_acceptor_.async_accept(control_, [accepted](error_code ec, asio::local::stream_protocol::socket s) mutable {
            accepted(ec, std::move(s));
        });
    else
        acceptor_.async_accept(control_, [accepted](error_code ec, tcp::socket s) mutable { accepted(ec, std::move(s)); });
}

}  // namespace wsgated::admin
