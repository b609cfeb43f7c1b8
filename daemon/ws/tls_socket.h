// tls_socket: the socket a TLS (wss://) session runs on: the bare TCP socket (as a plain
// session's, ws/plain_socket) and the connection's net::tls_engine, set up by the handshake
// (ws/tls_stream). ws/coalescing_stream drives it: it encrypts a whole coalesced batch at once,
// and it receives into the worker's scratch, where the ciphertext and the plaintext it decrypts
// to both live for the length of one event-loop turn. An idle wss:// connection holds no
// buffer: not ours, not OpenSSL's (docs/performance.md).
#pragma once

#include <span>

#include <boost/system/error_code.hpp>

#include "net/tls_engine.h"
#include "ws/plain_socket.h"

namespace wsgated::ws {

class tls_socket {
public:
    using executor_type = plain_socket::executor_type;
    using error_code = boost::system::error_code;

    tls_socket(plain_socket&& socket, net::tls_engine&& engine)
        : socket_(std::move(socket)), engine_(std::move(engine)) {
        if (engine_.output().empty()) std::vector<char>().swap(engine_.output());  // the handshake's
    }

    executor_type get_executor() { return socket_.get_executor(); }
    plain_socket& socket() { return socket_; }
    net::tls_engine& engine() { return engine_; }

    // What the peer sent next, decrypted: reads the socket without blocking into the front of
    // `scratch` and decrypts into its back. The plaintext is valid until the scratch is used
    // again. ec: would_block (nothing to hand out yet: wait until the socket is readable),
    // eof (the peer's close_notify, or TCP's end without one), or a TLS failure (its reason is
    // logged and our alert sent, if the socket takes it and no write is `in_flight`: the
    // alert would land inside that write's records).
    std::span<char> receive(std::span<char> scratch, bool in_flight, error_code& ec);
    // Whether receive() has something without the socket (kept ciphertext, decrypted bytes,
    // the end behind the last plaintext): then no need to wait until it is readable.
    bool ready() const { return engine_.ready(); }

    // Records for `plain`, at the end of engine().output(); false if TLS failed.
    bool encrypt(std::span<const char> plain) { return engine_.write(plain) == net::tls_engine::status::ok; }
    // Our close_notify, at the end of engine().output().
    void close_notify() { engine_.close(); }

private:
    plain_socket socket_;
    net::tls_engine engine_;
};

}  // namespace wsgated::ws
