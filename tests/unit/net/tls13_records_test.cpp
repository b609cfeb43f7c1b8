// Tests for net/tls13_records: the server's records against a client written from RFC 8446 on
// OpenSSL's own TLS13-KDF (tests/fuzz/support/tls13_client.h), so that the key schedule is
// checked by an implementation that is not ours, and every record a client may send (or must
// not) can be made.
// The engine's tests (tls_engine_test) run the same records against OpenSSL's client.
#include "net/tls13_records.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "../../fuzz/support/tls13_client.h"

namespace wsgated::test {
inline void PrintTo(const suite_info& s, std::ostream* os) { *os << s.cipher; }  // gtest: by ADL
}  // namespace wsgated::test

namespace wsgated::net {
namespace {

using test::suite_info;
using test::client_side;
using test::aes128;
using test::aes256;
using test::chacha;

using opened = tls13_records::opened;

class tls13_records_test : public ::testing::TestWithParam<suite_info> {
protected:
    void SetUp() override { make(0); }
    void make(std::uint64_t records_sent) {
        const auto& s = GetParam();
        client_secret_ = std::string(s.hash_size, 'c');
        server_secret_ = std::string(s.hash_size, 's');
        auto u = [](const std::string& x) { return std::span(reinterpret_cast<const unsigned char*>(x.data()), x.size()); };
        server_ = tls13_records::make(s.id, u(client_secret_), u(server_secret_), records_sent);
        ASSERT_NE(server_, nullptr);
        to_server_.emplace(s, client_secret_);
        from_server_.emplace(s, server_secret_, records_sent);
    }
    // What the server makes of one record.
    tls13_records::result open(const std::string& rec) {
        plain_.assign(rec.size() + 1, '\0');
        return server_->open(rec, plain_.data(), answers_);
    }
    std::string data(const tls13_records::result& r) const { return std::string(plain_.data(), r.size); }
    // The alert the server answered with, as the client reads it: its description.
    int alert_sent() {
        std::string sent(answers_.begin(), answers_.end());
        answers_.clear();
        auto [type, body] = from_server_->open(sent);
        if (type != 21 || body.size() != 2 || body[0] != 2) return -1;
        return static_cast<unsigned char>(body[1]);
    }
    void expect_refused(const std::string& rec, int alert) {
        auto r = open(rec);
        EXPECT_EQ(r.what, opened::failed);
        EXPECT_FALSE(server_->reason().empty());
        EXPECT_EQ(alert_sent(), alert) << server_->reason();
        plain_.assign(8, '\0');
        std::string more = to_server_->seal(23, "after");
        EXPECT_EQ(server_->open(more, plain_.data(), answers_).what, opened::failed) << "a failed connection stays failed";
    }

    std::string client_secret_, server_secret_;
    std::unique_ptr<tls13_records> server_;
    std::optional<client_side> to_server_, from_server_;
    std::vector<char> plain_, answers_;
};

TEST_P(tls13_records_test, data_each_way_with_padding) {
    auto r = open(to_server_->seal(23, "hello", 100));
    ASSERT_EQ(r.what, opened::data);
    EXPECT_EQ(data(r), "hello");
    std::string big(40 * 1024, 'x');
    std::vector<char> out;
    ASSERT_TRUE(server_->seal(big, out));
    std::string stream(out.begin(), out.end()), got;
    for (int i = 0; i < 3; ++i) {
        auto [type, body] = from_server_->open(stream);
        EXPECT_EQ(type, 23);
        got += body;
    }
    EXPECT_EQ(got, big);
    EXPECT_TRUE(stream.empty()) << "three records of at most 16 KiB";
}

TEST_P(tls13_records_test, record_size_waits_for_the_whole_record) {
    auto rec = to_server_->seal(23, "abc");
    EXPECT_EQ(tls13_records::record_size(std::string_view(rec).substr(0, 4)), 0u);
    EXPECT_EQ(tls13_records::record_size(std::string_view(rec).substr(0, rec.size() - 1)), 0u);
    EXPECT_EQ(tls13_records::record_size(rec + "more"), rec.size());
}

TEST_P(tls13_records_test, key_update_split_across_records_is_followed_and_answered) {
    EXPECT_EQ(open(to_server_->seal(22, std::string("\x18\x00\x00", 3))).what, opened::nothing);
    EXPECT_EQ(open(to_server_->seal(22, std::string("\x01\x01", 2))).what, opened::nothing);
    to_server_->next_generation();
    auto r = open(to_server_->seal(23, "new key"));
    ASSERT_EQ(r.what, opened::data) << server_->reason();
    EXPECT_EQ(data(r), "new key");
    EXPECT_TRUE(answers_.empty()) << "the answer goes before our next data, not on its own";
    std::vector<char> out;
    ASSERT_TRUE(server_->seal(std::string_view("reply"), out));
    std::string stream(out.begin(), out.end());
    auto [type, body] = from_server_->open(stream);
    EXPECT_EQ(type, 22);
    EXPECT_EQ(body, std::string("\x18\x00\x00\x01\x00", 5)) << "update_not_requested";
    from_server_->next_generation();
    EXPECT_EQ(from_server_->open(stream), (std::pair<int, std::string>{23, "reply"}));
}

TEST_P(tls13_records_test, our_keys_are_renewed_before_the_aead_limit) {
    make((std::uint64_t{1} << 24) - 1);
    std::vector<char> out;
    ASSERT_TRUE(server_->seal(std::string_view("last"), out));
    ASSERT_TRUE(server_->seal(std::string_view("first of the next key"), out));
    std::string stream(out.begin(), out.end());
    EXPECT_EQ(from_server_->open(stream).second, "last");
    EXPECT_EQ(from_server_->open(stream).first, 22);
    from_server_->next_generation();
    EXPECT_EQ(from_server_->open(stream).second, "first of the next key");
}

TEST_P(tls13_records_test, released_contexts_are_made_again) {
    ASSERT_EQ(open(to_server_->seal(23, "one")).what, opened::data);
    server_->release();
    auto r = open(to_server_->seal(23, "two"));
    ASSERT_EQ(r.what, opened::data);
    EXPECT_EQ(data(r), "two");
    std::vector<char> out;
    server_->release();
    ASSERT_TRUE(server_->seal(std::string_view("three"), out));
    std::string stream(out.begin(), out.end());
    EXPECT_EQ(from_server_->open(stream).second, "three");
}

TEST_P(tls13_records_test, close_notify_and_user_canceled) {
    EXPECT_EQ(open(to_server_->seal(21, std::string("\x01\x5a", 2))).what, opened::nothing);
    EXPECT_EQ(open(to_server_->seal(21, std::string("\x01\x00", 2))).what, opened::closed);
    std::vector<char> out;
    server_->close_notify(out);
    std::string stream(out.begin(), out.end());
    EXPECT_EQ(from_server_->open(stream), (std::pair<int, std::string>{21, std::string("\x01\x00", 2)}));
}

TEST_P(tls13_records_test, a_fatal_alert_of_the_peer_is_not_answered) {
    EXPECT_EQ(open(to_server_->seal(21, std::string("\x02\x28", 2))).what, opened::failed);
    EXPECT_NE(server_->reason().find("40"), std::string::npos) << server_->reason();
    EXPECT_TRUE(answers_.empty());
}

TEST_P(tls13_records_test, a_tampered_record_is_bad_record_mac) {
    auto rec = to_server_->seal(23, "payload");
    rec[7] ^= 1;
    expect_refused(rec, 20);
}

TEST_P(tls13_records_test, a_replayed_record_is_bad_record_mac) {
    auto rec = to_server_->seal(23, "once");
    ASSERT_EQ(open(rec).what, opened::data);
    expect_refused(rec, 20);
}

TEST_P(tls13_records_test, change_cipher_spec_after_the_handshake_is_unexpected) {
    expect_refused(std::string("\x14\x03\x03\x00\x01\x01", 6), 10);
}

TEST_P(tls13_records_test, an_unprotected_alert_is_unexpected) {
    expect_refused(std::string("\x15\x03\x03\x00\x02\x02\x28", 7), 10);
}

TEST_P(tls13_records_test, a_record_over_the_limit_is_refused_from_its_header) {
    std::string header("\x17\x03\x03\x41\x01", 5);  // 16,641 bytes: one over 2^14 + 256
    EXPECT_EQ(tls13_records::record_size(header), 5u) << "no waiting for a body that cannot be read";
    expect_refused(header, 22);
}

TEST_P(tls13_records_test, plaintext_over_two_to_the_fourteen_is_record_overflow) {
    expect_refused(to_server_->seal(23, std::string(16 * 1024 + 1, 'p')), 22);
}

TEST_P(tls13_records_test, a_record_of_padding_only_is_unexpected) {
    std::string rec = to_server_->seal(0, "", 10);  // no content type: all zeros
    expect_refused(rec, 10);
}

TEST_P(tls13_records_test, a_new_session_ticket_from_the_client_is_unexpected) {
    expect_refused(to_server_->seal(22, std::string("\x04\x00\x00\x01\x00", 5)), 10);
}

TEST_P(tls13_records_test, a_key_update_with_data_behind_it_in_its_record_is_unexpected) {
    expect_refused(to_server_->seal(22, std::string("\x18\x00\x00\x01\x00\x18", 6)), 10);
}

TEST_P(tls13_records_test, a_key_update_with_an_invalid_request_is_illegal_parameter) {
    expect_refused(to_server_->seal(22, std::string("\x18\x00\x00\x01\x02", 5)), 47);
}

TEST_P(tls13_records_test, a_key_update_of_the_wrong_length_is_decode_error) {
    expect_refused(to_server_->seal(22, std::string("\x18\x00\x00\x02\x00\x00", 6)), 50);
}

TEST_P(tls13_records_test, data_inside_a_split_key_update_is_unexpected) {
    EXPECT_EQ(open(to_server_->seal(22, std::string("\x18\x00", 2))).what, opened::nothing);
    expect_refused(to_server_->seal(23, "between"), 10);
}

TEST_P(tls13_records_test, a_flood_of_empty_records_is_refused) {
    for (int i = 0; i < 32; ++i) ASSERT_EQ(open(to_server_->seal(23, "")).what, opened::nothing) << i;
    expect_refused(to_server_->seal(23, ""), 10);
}

TEST_P(tls13_records_test, empty_records_between_data_are_fine) {
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 30; ++i) ASSERT_EQ(open(to_server_->seal(23, "")).what, opened::nothing);
        ASSERT_EQ(open(to_server_->seal(23, "d")).what, opened::data);
    }
}

TEST(tls13_records, an_unknown_suite_is_left_to_openssl) {
    std::string secret(32, 'k');
    auto u = std::span(reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    EXPECT_EQ(tls13_records::make(0x1304, u, u, 0), nullptr) << "TLS_AES_128_CCM_SHA256";
    EXPECT_EQ(tls13_records::make(0x1302, u, u, 0), nullptr) << "a secret of the wrong size for SHA-384";
}

INSTANTIATE_TEST_SUITE_P(suites, tls13_records_test, ::testing::Values(aes128, aes256, chacha),
                         [](const auto& info) { return std::string(info.param.cipher).substr(0, 3) + std::to_string(info.param.key_size); });

}  // namespace
}  // namespace wsgated::net
