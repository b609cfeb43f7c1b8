// Tests for net/tls_engine: a server engine on the product's own context against a client
// engine, bytes carried between them by hand (tests/unit/support/tls_pair.h), so that every
// split of the ciphertext and every post-handshake message can be provoked.
#include "net/tls_engine.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "../support/tls_pair.h"

namespace wsgated::net {
namespace {

using st = tls_engine::status;
using test::tls_pair;

class tls_engine_test : public ::testing::Test {
protected:
    void SetUp() override { make_pair("1.2", 0); }
    void make_pair(const std::string& min, int client_max) {
        pair_.reset();
        pair_.emplace(min, client_max);
    }
    void handshake() { ASSERT_TRUE(pair_->handshake()); }
    tls_engine& server() { return pair_->server; }
    tls_engine& client() { return pair_->client; }
    static std::string take(tls_engine& e) { return tls_pair::take(e); }
    static std::string deliver(tls_engine& from, tls_engine& to, std::size_t chunk = 64 * 1024) {
        return tls_pair::deliver(from, to, chunk);
    }
    static std::string pattern(std::size_t n) { return tls_pair::pattern(n); }

    std::optional<tls_pair> pair_;
};

TEST_F(tls_engine_test, handshake_and_data_both_ways_in_tls13) {
    handshake();
    EXPECT_STREQ(server().version(), "TLSv1.3");
    EXPECT_TRUE(server().own_records()) << "TLS 1.3: the records are ours after the handshake";
    EXPECT_EQ(server().native(), nullptr) << "and OpenSSL's SSL object is freed";
    ASSERT_EQ(client().write(std::string_view("hello server")), st::ok);
    EXPECT_EQ(deliver(client(), server()), "hello server");
    ASSERT_EQ(server().write(std::string_view("hello client")), st::ok);
    EXPECT_EQ(deliver(server(), client()), "hello client");
    EXPECT_FALSE(server().has_buffered());
}

TEST_F(tls_engine_test, tls12_client_is_served_when_allowed) {
    make_pair("1.2", TLS1_2_VERSION);
    handshake();
    EXPECT_STREQ(server().version(), "TLSv1.2");
    EXPECT_FALSE(server().own_records()) << "TLS 1.2 stays on OpenSSL";
    ASSERT_EQ(client().write(std::string_view("twelve")), st::ok);
    EXPECT_EQ(deliver(client(), server()), "twelve");
}

// Each TLS 1.3 suite an OpenSSL client may pick, against our records: data both ways, in
// several records, and a key update each way.
TEST_F(tls_engine_test, every_tls13_suite_runs_on_our_records) {
    for (const char* suite : {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
        make_pair("1.2", 0);
        ASSERT_EQ(SSL_set_ciphersuites(client().native(), suite), 1);
        handshake();
        EXPECT_TRUE(server().own_records()) << suite;
        auto big = pattern(70 * 1024);
        ASSERT_EQ(client().write(big), st::ok);
        EXPECT_EQ(deliver(client(), server()), big) << suite;
        ASSERT_EQ(server().write(big), st::ok);
        EXPECT_EQ(deliver(server(), client()), big) << suite;
        ASSERT_EQ(SSL_key_update(client().native(), SSL_KEY_UPDATE_REQUESTED), 1);
        ASSERT_EQ(client().write(std::string_view("up")), st::ok);
        EXPECT_EQ(deliver(client(), server()), "up") << suite;
        server().update_keys();
        ASSERT_EQ(server().write(std::string_view("down")), st::ok);
        EXPECT_EQ(deliver(server(), client()), "down") << suite;
        EXPECT_STREQ(SSL_CIPHER_get_name(SSL_get_current_cipher(client().native())), suite);
    }
}

// A quiet connection drops its cipher contexts (and its output buffer); the next record
// makes them again.
TEST_F(tls_engine_test, released_engine_goes_on) {
    handshake();
    server().release();
    ASSERT_EQ(client().write(std::string_view("after a quiet while")), st::ok);
    EXPECT_EQ(deliver(client(), server()), "after a quiet while");
    server().release();
    ASSERT_EQ(server().write(std::string_view("and back")), st::ok);
    EXPECT_EQ(deliver(server(), client()), "and back");
}

TEST_F(tls_engine_test, a_record_changed_on_the_way_fails_with_an_alert) {
    handshake();
    ASSERT_EQ(client().write(std::string_view("payload")), st::ok);
    auto cipher = take(client());
    cipher[8] ^= 0x40;
    std::string buf(64, '\0');
    auto r = server().read(cipher, buf);
    EXPECT_EQ(r.st, st::failed);
    EXPECT_EQ(server().reason(), "tls: bad record mac");
    auto alert = take(server());
    ASSERT_FALSE(alert.empty()) << "bad_record_mac is said";
    EXPECT_EQ(client().read(alert, buf).st, st::failed);
    EXPECT_NE(client().reason().find("bad record mac"), std::string::npos) << client().reason();
    server().close();
    EXPECT_TRUE(server().output().empty()) << "no close_notify after a fatal alert";
}

TEST_F(tls_engine_test, tls12_client_is_refused_under_min_version_13) {
    make_pair("1.3", TLS1_2_VERSION);
    client().handshake({});
    EXPECT_EQ(server().handshake(take(client())), st::failed);
    EXPECT_FALSE(server().reason().empty());
    EXPECT_FALSE(server().output().empty()) << "the client hears a protocol_version alert";
}

TEST_F(tls_engine_test, client_hello_split_at_every_byte) {
    client().handshake({});
    auto hello = take(client());
    ASSERT_GT(hello.size(), 100u);
    for (std::size_t i = 0; i + 1 < hello.size(); ++i)
        ASSERT_EQ(server().handshake(std::string_view(hello).substr(i, 1)), st::want_read) << i;
    EXPECT_EQ(server().handshake(std::string_view(hello).substr(hello.size() - 1)), st::want_read);
    EXPECT_FALSE(server().output().empty()) << "the ServerHello flight";
    EXPECT_FALSE(server().has_buffered());
}

TEST_F(tls_engine_test, records_cut_anywhere_decrypt_whole) {
    handshake();
    auto sent = pattern(40 * 1024);  // three records
    ASSERT_EQ(client().write(sent), st::ok);
    auto cipher = take(client());
    for (std::size_t step : {1u, 5u, 7u, 4096u, 16389u}) {
        // Same plaintext again under each cut size (a fresh record stream each time).
        if (step != 1) {
            ASSERT_EQ(client().write(sent), st::ok);
            cipher = take(client());
        }
        std::string got, buf(64 * 1024, '\0');
        for (std::size_t at = 0; at < cipher.size(); at += step) {
            auto r = server().read(std::string_view(cipher).substr(at, step), buf);
            ASSERT_EQ(r.st, st::want_read) << "step " << step << " at " << at;
            got.append(buf.data(), r.produced);
        }
        EXPECT_EQ(got, sent) << "step " << step;
        EXPECT_FALSE(server().has_buffered());
    }
}

TEST_F(tls_engine_test, what_does_not_fit_is_kept_for_the_next_read) {
    handshake();
    auto sent = pattern(100 * 1024);
    ASSERT_EQ(client().write(sent), st::ok);
    auto cipher = take(client());
    std::string got, buf(3000, '\0');
    auto r = server().read(cipher, buf);
    EXPECT_EQ(r.st, st::ok);
    EXPECT_EQ(r.produced, buf.size());
    EXPECT_TRUE(server().has_buffered());
    got.append(buf.data(), r.produced);
    while (server().has_buffered()) {
        r = server().read({}, buf);
        ASSERT_NE(r.st, st::failed);
        got.append(buf.data(), r.produced);
    }
    EXPECT_EQ(got, sent);
}

TEST_F(tls_engine_test, one_mebibyte_each_way) {
    handshake();
    auto big = pattern(1024 * 1024);
    ASSERT_EQ(client().write(big), st::ok);
    EXPECT_EQ(deliver(client(), server(), 128 * 1024), big);
    ASSERT_EQ(server().write(big), st::ok);
    EXPECT_GE(server().output().size(), big.size() + 64 * 17) << "64 records, each with its overhead";
    EXPECT_EQ(deliver(server(), client(), 128 * 1024), big);
}

TEST_F(tls_engine_test, key_update_requested_by_the_client_is_answered) {
    handshake();
    ASSERT_EQ(SSL_key_update(client().native(), SSL_KEY_UPDATE_REQUESTED), 1);
    ASSERT_EQ(client().write(std::string_view("after the update")), st::ok);
    EXPECT_EQ(deliver(client(), server()), "after the update");
    // Our own KeyUpdate goes before our next data (RFC 8446 §4.6.3), not on its own.
    EXPECT_TRUE(server().output().empty());
    ASSERT_EQ(server().write(std::string_view("new keys both ways")), st::ok);
    EXPECT_EQ(deliver(server(), client()), "new keys both ways");
    // A second update, unrequested, both ways: still readable.
    server().update_keys();
    ASSERT_EQ(server().write(std::string_view("again")), st::ok);
    EXPECT_EQ(deliver(server(), client()), "again");
}

TEST_F(tls_engine_test, renegotiation_on_tls12_is_refused) {
    make_pair("1.2", TLS1_2_VERSION);
    handshake();
    ASSERT_EQ(SSL_renegotiate(client().native()), 1);
    client().handshake({});  // the new ClientHello
    ASSERT_FALSE(client().output().empty());
    std::string buf(1024, '\0');
    auto r = server().read(take(client()), buf);
    EXPECT_NE(r.st, st::ok);
    EXPECT_EQ(r.produced, 0u);
    // The server answers with a no_renegotiation alert; the client's renegotiation then
    // cannot complete, and data still flows on the first handshake's keys.
    auto answer = take(server());
    EXPECT_FALSE(answer.empty()) << "the refusal is said, not silence";
    client().read(answer, buf);
    EXPECT_EQ(SSL_renegotiate_pending(client().native()), 1) << "the client's renegotiation did not complete";
}

TEST_F(tls_engine_test, http_instead_of_a_client_hello_fails_with_a_reason) {
    EXPECT_EQ(server().handshake(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), st::failed);
    EXPECT_EQ(server().reason(), "http request");
}

TEST_F(tls_engine_test, garbage_instead_of_a_client_hello_fails) {
    std::string junk(64, '\x16');
    junk[1] = '\x7f';  // a handshake record of a version that never was
    EXPECT_EQ(server().handshake(junk), st::failed);
    EXPECT_FALSE(server().reason().empty());
    server().close();  // no close_notify after a fatal error: must not crash or write
}

TEST_F(tls_engine_test, close_notify_each_way) {
    handshake();
    server().close();
    std::string buf(64, '\0');
    EXPECT_EQ(client().read(take(server()), buf).st, st::closed);
    client().close();
    EXPECT_EQ(server().read(take(client()), buf).st, st::closed);
}

TEST_F(tls_engine_test, data_and_close_notify_in_one_read) {
    handshake();
    ASSERT_EQ(client().write(std::string_view("last words")), st::ok);
    client().close();
    std::string buf(64, '\0');
    auto r = server().read(take(client()), buf);
    EXPECT_EQ(r.st, st::closed);
    EXPECT_EQ(std::string(buf.data(), r.produced), "last words");
}

TEST_F(tls_engine_test, a_moved_engine_keeps_its_connection) {
    handshake();
    tls_engine moved = std::move(server());
    ASSERT_EQ(client().write(std::string_view("still here")), st::ok);
    EXPECT_EQ(deliver(client(), moved), "still here");
}

TEST_F(tls_engine_test, data_behind_the_clients_finished_is_kept_for_the_first_read) {
    // TLS 1.3: the client may send its first data right behind its Finished, in one segment
    // (the upgrade request behind the handshake).
    client().handshake({});
    ASSERT_EQ(server().handshake(take(client())), st::want_read);
    ASSERT_EQ(client().handshake(take(server())), st::ok);
    ASSERT_EQ(client().write(std::string_view("GET /echo HTTP/1.1")), st::ok);
    ASSERT_EQ(server().handshake(take(client())), st::ok);
    EXPECT_TRUE(server().has_buffered());
    std::string buf(64, '\0');
    auto r = server().read({}, buf);
    EXPECT_EQ(std::string(buf.data(), r.produced), "GET /echo HTTP/1.1");
    EXPECT_FALSE(server().has_buffered());
}

}  // namespace
}  // namespace wsgated::net
