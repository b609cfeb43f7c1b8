// tls_context: see tls_context.h. Runs at config load time only.
#include "net/tls_context.h"
#include "net/ticket_keys.h"
#include "net/tls_engine.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace wsgated::net {
namespace {

namespace ssl = boost::asio::ssl;

// Reads the file ourselves first so that "cannot read" (missing file, permissions) is told
// apart from "not a certificate": OpenSSL reports both as a PEM decoding error.
std::string unreadable(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (in && in.peek() != std::ifstream::traits_type::eof()) return {};
    if (!in) return "cannot read " + path + ": " + std::strerror(errno);
    return path + " is empty";
}

std::string openssl_reason() {
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

tls_result fail(std::string key, std::string why) {
    tls_result r;
    r.error_key = std::move(key);
    r.error = std::move(why);
    return r;
}

}  // namespace

tls_result make_tls_context(const tls_files& files) {
    int min_proto = 0;
    if (files.min_version == "1.2" || files.min_version.empty()) min_proto = TLS1_2_VERSION;
    else if (files.min_version == "1.3") min_proto = TLS1_3_VERSION;
    else return fail("min_version", "must be \"1.2\" or \"1.3\"");

    if (auto why = unreadable(files.cert_file); !why.empty()) return fail("cert", why);
    if (auto why = unreadable(files.key_file); !why.empty()) return fail("key", why);

    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_min_proto_version(native, min_proto);
    // No renegotiation, no compression (CRIME); server picks the cipher order.
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);  // idle TLS connections hold no buffers
    // Resumption rides on stateless tickets (TLS 1.2 and 1.3), so the server-side session cache
    // only cost a locked insert per handshake and a periodic sweep; and one TLS 1.3 ticket
    // instead of OpenSSL's two (a browser resumes with one). Together: 278 → 247 µs of server
    // CPU per full handshake (wsbench tls-storm, docs/performance.md).
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(native, 1);
    use_process_ticket_keys(native);  // tickets outlive a reload (net/ticket_keys)
    tls_engine::use_own_records(native);  // TLS 1.3 records after the handshake: net/tls13_records

    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(native, files.cert_file.c_str()) != 1)
        return fail("cert", "not a PEM certificate (chain): " + openssl_reason());
    if (SSL_CTX_use_PrivateKey_file(native, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        return fail("key", "not a PEM private key: " + openssl_reason());
    if (SSL_CTX_check_private_key(native) != 1)
        return fail("key", "private key does not match the certificate " + files.cert_file);

    tls_result ok;
    ok.context = std::move(ctx);
    return ok;
}

}  // namespace wsgated::net
