// tls_pair (tests only): a throw-away self-signed certificate, and a server net::tls_engine on the product's own context (net/tls_context,
// from real PEM files of a throw-away P-256 certificate) and a client engine, with bytes
// carried between them by hand. Shared by the tls_engine and coalescing_stream tests.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "net/tls_context.h"
#include "net/tls_engine.h"

namespace wsgated::test {

// A PEM certificate for `key`, self-signed, CN=localhost, valid for an hour.
inline int write_self_signed_cert(FILE* f, EVP_PKEY* key) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    int ok = PEM_write_X509(f, x);
    X509_free(x);
    return ok;
}

class tls_pair {
public:
    using engine = net::tls_engine;
    using st = engine::status;

    // min: the listener's min_version; client_max: the most the client speaks (0: any).
    explicit tls_pair(const std::string& min = "1.2", int client_max = 0) {
        static const std::filesystem::path dir = make_files();
        auto made = net::make_tls_context({(dir / "tls.crt").string(), (dir / "tls.key").string(), min});
        EXPECT_TRUE(made.error.empty()) << made.error;
        server_ctx_ = made.context;
        server = engine(server_ctx_->native_handle(), engine::role::server);
        client = engine(client_context(client_max), engine::role::client, "localhost");
    }
    ~tls_pair() = default;
    tls_pair(const tls_pair&) = delete;

    // Carries each side's output to the other until both are done; true if they are.
    bool handshake() {
        client.handshake({});
        for (int round = 0; round < 10 && !(server.handshake_done() && client.handshake_done()); ++round) {
            if (server.handshake(take(client)) == st::failed) return false;
            if (client.handshake(take(server)) == st::failed) return false;
        }
        // TLS 1.3: the server's ticket goes over too.
        char sink[256];
        client.read(take(server), sink);
        return server.handshake_done() && client.handshake_done();
    }

    static std::string take(engine& e) {
        std::string s(e.output().begin(), e.output().end());
        e.output().clear();
        return s;
    }

    // Everything `from` has to say, read by `to` through a buffer of `chunk` bytes.
    static std::string deliver(engine& from, engine& to, std::size_t chunk = 64 * 1024) {
        return decrypt(to, take(from), chunk);
    }
    static std::string decrypt(engine& to, const std::string& cipher, std::size_t chunk = 64 * 1024) {
        std::string got, buf(chunk, '\0');
        auto r = to.read(cipher, buf);
        got.append(buf.data(), r.produced);
        while (r.st == st::ok && to.has_buffered()) {
            r = to.read({}, buf);
            got.append(buf.data(), r.produced);
        }
        return got;
    }

    static std::string pattern(std::size_t n) {
        std::string s(n, '\0');
        for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i * 7 % 26);
        return s;
    }

    engine server, client;

private:
    static std::filesystem::path make_files() {
        auto dir = std::filesystem::temp_directory_path() / ("wsgated_tls_pair_" + std::to_string(getpid()));
        std::filesystem::create_directories(dir);
        EVP_PKEY* key = EVP_EC_gen("P-256");
        write_pem(dir / "tls.key", [&](FILE* f) { return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); });
        write_pem(dir / "tls.crt", [&](FILE* f) { return write_self_signed_cert(f, key); });
        EVP_PKEY_free(key);
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                            ("wsgated_tls_pair_" + std::to_string(getpid())),
                                        ignored);
        });
        return dir;
    }
    template <class F>
    static void write_pem(const std::filesystem::path& file, F write) {
        FILE* f = std::fopen(file.c_str(), "w");
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(write(f), 1);
        std::fclose(f);
    }
    // One client context per version for the whole test run, as a real client keeps one: an
    // OpenSSL client offers a session (a ticket) only to connections of its own context.
    static SSL_CTX* client_context(int client_max) {
        struct contexts {
            std::map<int, SSL_CTX*> made;
            ~contexts() {  // freed at exit, before LeakSanitizer looks
                for (auto& [v, ctx] : made) SSL_CTX_free(ctx);
            }
        };
        static contexts all;
        SSL_CTX*& ctx = all.made[client_max];
        if (!ctx) {
            ctx = SSL_CTX_new(TLS_client_method());
            if (client_max) SSL_CTX_set_max_proto_version(ctx, client_max);
        }
        return ctx;
    }

    std::shared_ptr<boost::asio::ssl::context> server_ctx_;
};

}  // namespace wsgated::test
