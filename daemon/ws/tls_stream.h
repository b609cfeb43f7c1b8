// tls_stream: a TLS connection between accept() and the upgrade, as the handshake sees it: an
// Asio stream (Beast reads the HTTP request and writes refusals through it) over Beast's
// tcp_stream, whose deadline bounds the whole of it (handshake_timeout), and the connection's
// net::tls_engine. The upgrade hands both to the session (ws/tls_socket), which goes on
// without this stream's buffers.
//
// One read and one write at most in flight, never both (the handshake reads, then answers).
#pragma once

#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "net/tls_engine.h"

namespace wsgated::ws {

class tls_stream {
public:
    using executor_type = boost::beast::tcp_stream::executor_type;
    using error_code = boost::system::error_code;

    tls_stream(boost::asio::ip::tcp::socket socket, SSL_CTX* ctx)
        : tcp_(std::move(socket)), engine_(ctx, net::tls_engine::role::server) {}

    executor_type get_executor() { return tcp_.get_executor(); }
    boost::beast::tcp_stream& next_layer() { return tcp_; }
    net::tls_engine& engine() { return engine_; }
    // Why the TLS handshake failed (OpenSSL's reason), once async_handshake said so.
    const std::string& reason() const { return engine_.reason(); }

    // The server's side of the handshake; `early` is what was read before it (behind a PROXY
    // header) and must stay valid until `h(ec)`: tls_engine::failure() on a TLS failure (our alert
    // sent first; reason() says why), or the TCP stream's error (timeout, EOF).
    template <class Handler>
    void async_handshake(std::span<const char> early, Handler&& h) {
        boost::asio::post(tcp_.get_executor(), [this, early, h = std::forward<Handler>(h)]() mutable {
            if (!engine_.valid()) return h(tls_failed());
            handshake_step(early, std::move(h));
        });
    }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const Buffers& b) {
                boost::asio::mutable_buffer first = *boost::asio::buffer_sequence_begin(b);
                read_step({static_cast<char*>(first.data()), first.size()}, std::move(handler), true);
            },
            token, buffers);
    }

    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const Buffers& b) {
                std::size_t n = 0;
                bool ok = true;
                for (auto it = boost::asio::buffer_sequence_begin(b); it != boost::asio::buffer_sequence_end(b); ++it) {
                    boost::asio::const_buffer piece = *it;
                    ok = ok && engine_.write({static_cast<const char*>(piece.data()), piece.size()}) ==
                                   net::tls_engine::status::ok;
                    n += piece.size();
                }
                if (!ok || engine_.output().empty()) return complete(std::move(handler), ok ? error_code{} : tls_failed(), 0, true);
                send([this, h = std::move(handler), n](error_code ec) mutable { h(ec, ec ? 0 : n); });
            },
            token, buffers);
    }

private:
    static error_code tls_failed() { return net::tls_engine::failure(); }

    // A completion from the initiating function is posted (Asio's rule); from a completion, run.
    template <class Handler>
    void complete(Handler&& h, error_code ec, std::size_t n, bool initiating) {
        if (!initiating) return h(ec, n);
        boost::asio::post(tcp_.get_executor(), boost::beast::bind_front_handler(std::forward<Handler>(h), ec, n));
    }

    // Writes what the engine has to say (a flight, an alert, records), then `then(ec)`.
    template <class Then>
    void send(Then&& then) {
        std::swap(sending_, engine_.output());
        boost::asio::async_write(tcp_, boost::asio::buffer(sending_),
                                 [this, then = std::forward<Then>(then)](error_code ec, std::size_t) mutable {
                                     sending_.clear();
                                     then(ec);
                                 });
    }

    // Reads ciphertext from TCP into in_, then `then(ec, bytes)`.
    template <class Then>
    void receive(Then&& then) {
        if (!in_) in_ = std::make_unique<char[]>(in_size);
        tcp_.async_read_some(boost::asio::buffer(in_.get(), in_size),
                             [this, then = std::forward<Then>(then)](error_code ec, std::size_t n) mutable {
                                 then(ec, std::span<const char>(in_.get(), ec ? 0 : n));
                             });
    }

    // From a completion only: `h` runs at once when the handshake ends. TLS 1.3's last flight
    // is our session ticket alone, which the client needs no sooner than our first data: it
    // waits in the engine's output and goes in the same write as the 101 (or the refusal),
    // one send fewer per connection (docs/performance.md).
    template <class Handler>
    void handshake_step(std::span<const char> in, Handler&& h) {
        auto st = engine_.handshake(in);
        bool ticket_only = st == net::tls_engine::status::ok && engine_.tls13();
        if (engine_.output().empty() || ticket_only) return handshake_next(st, std::forward<Handler>(h));
        send([this, st, h = std::forward<Handler>(h)](error_code ec) mutable {
            if (ec) return h(ec);
            handshake_next(st, std::move(h));
        });
    }

    template <class Handler>
    void handshake_next(net::tls_engine::status st, Handler&& h) {
        if (st == net::tls_engine::status::ok) return h(error_code{});
        if (st != net::tls_engine::status::want_read && engine_.reason() == "http request")
            return refuse_plain_http(std::forward<Handler>(h));
        if (st != net::tls_engine::status::want_read) return h(tls_failed());
        receive([this, h = std::forward<Handler>(h)](error_code ec, std::span<const char> got) mutable {
            if (ec) return h(ec);
            handshake_step(got, std::move(h));
        });
    }

    // ws:// (or http://) sent to a wss:// port: TLS has no alert for it (OpenSSL sends none),
    // so the client hears it in the protocol it spoke, as nginx does.
    template <class Handler>
    void refuse_plain_http(Handler&& h) {
        static constexpr std::string_view answer =
            "HTTP/1.1 400 Bad Request\r\nServer: wsgated\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 33\r\nConnection: close\r\n\r\nthis port speaks TLS: use wss://\n";
        boost::asio::async_write(tcp_, boost::asio::buffer(answer.data(), answer.size()),
                                 [this, h = std::forward<Handler>(h)](error_code, std::size_t) mutable {
                                     error_code ignored;  // FIN behind the answer
                                     tcp_.socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
                                     h(tls_failed());
                                 });
    }

    template <class Handler>
    void read_step(std::span<char> out, Handler&& h, bool initiating) {
        error_code ec;
        if (engine_.ready()) {
            std::size_t n = engine_.read_stream({}, out, ec);
            if (ec != boost::asio::error::would_block) return complete(std::forward<Handler>(h), ec, n, initiating);
        }
        receive([this, out, h = std::forward<Handler>(h)](error_code ec, std::span<const char> got) mutable {
            if (ec) return h(ec, 0);
            std::size_t n = engine_.read_stream(got, out, ec);
            if (ec == boost::asio::error::would_block) return read_step(out, std::move(h), false);
            if (!ec || engine_.output().empty()) return h(ec, n);
            send([h = std::move(h), ec, n](error_code) mutable { h(ec, n); });  // our alert first
        });
    }

    static constexpr std::size_t in_size = 16 * 1024 + 512;  // a whole record and its header
    boost::beast::tcp_stream tcp_;
    net::tls_engine engine_;
    std::unique_ptr<char[]> in_;   // ciphertext as read, until the upgrade
    std::vector<char> sending_;    // the records being written
};

}  // namespace wsgated::ws
