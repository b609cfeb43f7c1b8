// tls_engine: one TLS connection's OpenSSL state, driven by us without a socket (sans-I/O).
//
// Why not Asio's ssl::stream: it keeps two 17 KiB engine buffers and a 2 × 17 KiB BIO pair per
// connection for life, busy or idle: 88 KB of a 95 KB idle wss:// connection
// (docs/performance.md). Here OpenSSL reads ciphertext straight from the span the caller hands
// in (the worker's receive scratch) through a BIO of ours, and writes records into output(), a
// buffer the caller swaps out and sends. With SSL_MODE_RELEASE_BUFFERS (net/tls_context) an idle
// connection holds the SSL object and nothing else: no buffer of ours, none of OpenSSL's.
//
// Ciphertext that a call does not consume (the plaintext buffer was full, or it arrived behind
// the handshake's last flight) is kept, and read first by the next call: has_buffered() says so,
// so that the caller reads it before waiting on the socket.
//
// A TLS 1.3 server connection leaves OpenSSL when its handshake is done: its records are then
// net/tls13_records', and the SSL object (~14 KB) is freed (own_records(); docs/performance.md).
// TLS 1.2, and the rare TLS 1.3 cases tls_engine.cpp names, stay on OpenSSL throughout.
//
// Used on one thread at a time (the connection's worker). Movable: the state the BIO points at
// lives in one heap block.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace wsgated::net {

class tls_engine {
public:
    enum class role { server, client };  // client: for tests and tools
    enum class status {
        ok,         // done (handshake), or `produced` plaintext bytes (read)
        want_read,  // everything given was consumed: more ciphertext is needed
        closed,     // the peer's close_notify
        failed,     // a TLS error: reason() says which, output() may hold our alert
    };
    struct result {
        status st = status::ok;
        std::size_t produced = 0;  // read(): plaintext bytes written into `out`
    };

    tls_engine();  // empty: valid() is false
    tls_engine(SSL_CTX* ctx, role r, const char* server_name = nullptr);
    tls_engine(tls_engine&&) noexcept;
    tls_engine& operator=(tls_engine&&) noexcept;
    ~tls_engine();

    bool valid() const { return s_ != nullptr; }

    // On a listener's context (net/tls_context), once: its TLS 1.3 connections hand their
    // records to net/tls13_records after the handshake (OpenSSL's key log tells the secrets).
    static void use_own_records(SSL_CTX* ctx);

    // The error code every layer above gives a TLS failure (reason() says which).
    static boost::system::error_code failure() {
        return boost::system::errc::make_error_code(boost::system::errc::protocol_error);
    }

    // Runs the handshake on `in` (and what was kept); ok once it is complete.
    status handshake(std::span<const char> in);
    bool handshake_done() const;

    // Decrypts what `in` (and what was kept) holds into `out`, as much as fits: `produced`
    // bytes, and ok (`out` is full: has_buffered() says whether more is there), want_read, or
    // closed / failed (after the `produced` bytes, which are valid). Ciphertext past a full
    // `out` is kept. Post-handshake messages are answered into output() (a renegotiation
    // attempt is refused; our KeyUpdate answer goes before our next data, RFC 8446 §4.6.3).
    result read(std::span<const char> in, std::span<char> out);

    // Ciphertext kept from an earlier call, or plaintext OpenSSL decrypted and not handed out.
    bool has_buffered() const;

    // read() as a stream reads: the bytes produced, with ec would_block (nothing yet: more
    // ciphertext is needed), eof (the peer's close_notify) or failure() (a TLS failure:
    // reason() says which, output() holds our alert). An end that came behind plaintext is
    // told by the next call, so the plaintext is handed out first; ready() says one is due.
    std::size_t read_stream(std::span<const char> in, std::span<char> out, boost::system::error_code& ec);
    // Whether read_stream has something without more ciphertext.
    bool ready() const;

    // Encrypts `plain` into output() (records of at most 16 KiB).
    status write(std::span<const char> plain);
    // Our close_notify into output().
    void close();

    // Records to send, in order. The caller sends and clears it (or swaps its own buffer in).
    std::vector<char>& output();

    // Why the last call failed ("tls: wrong version number", …); empty if it did not.
    const std::string& reason() const;
    // The negotiated protocol ("TLSv1.3"), for logs and tests.
    const char* version() const;
    bool tls13() const;
    // OpenSSL's object; null once the records are ours (own_records()).
    SSL* native() const;
    bool own_records() const;
    bool resumed() const;  // a resumed session (a ticket)
    // Our KeyUpdate (update_not_requested) before our next data.
    void update_keys();
    // A quiet connection (nothing in output() to send) drops what it can make again: the
    // output buffer, the cipher contexts of our records.
    void release();

private:
    struct state;
    std::unique_ptr<state> s_;
};

}  // namespace wsgated::net
