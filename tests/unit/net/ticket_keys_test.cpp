// Tests for net/ticket_keys: a session ticket from one TLS context resumes on another built
// later (as after a reload), in TLS 1.2 and 1.3, across one key rotation but not two.
#include "net/ticket_keys.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "../support/tls_pair.h"

namespace wsgated::net {
namespace {

using test::tls_pair;

// A full handshake on a fresh context; the client's session, ticket included.
SSL_SESSION* first_session(int version) {
    tls_pair first("1.2", version);
    EXPECT_TRUE(first.handshake());
    EXPECT_FALSE(first.server.resumed());
    SSL_SESSION* s = SSL_get1_session(first.client.native());
    EXPECT_TRUE(s && SSL_SESSION_has_ticket(s));
    first.client.close();  // freed without a close_notify, OpenSSL would mark the session not resumable
    return s;
}

// Whether `s` resumes on another fresh context (a reload builds one).
bool resumes_on_a_new_context(SSL_SESSION* s, int version) {
    tls_pair later("1.2", version);
    SSL_set_session(later.client.native(), s);
    EXPECT_TRUE(later.handshake());
    return later.server.resumed();
}

class ticket_keys_test : public ::testing::TestWithParam<int> {};

TEST_P(ticket_keys_test, a_ticket_resumes_on_a_context_built_after_it) {
    SSL_SESSION* s = first_session(GetParam());
    EXPECT_TRUE(resumes_on_a_new_context(s, GetParam()));
    SSL_SESSION_free(s);
}

TEST_P(ticket_keys_test, a_ticket_survives_one_rotation_but_not_two) {
    SSL_SESSION* s = first_session(GetParam());
    rotate_ticket_keys_for_test();
    EXPECT_TRUE(resumes_on_a_new_context(s, GetParam())) << "the previous key still decrypts";
    rotate_ticket_keys_for_test();
    EXPECT_FALSE(resumes_on_a_new_context(s, GetParam())) << "two rotations ago: a full handshake";
    SSL_SESSION_free(s);
}

INSTANTIATE_TEST_SUITE_P(versions, ticket_keys_test, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const auto& info) { return info.param == TLS1_3_VERSION ? "tls13" : "tls12"; });

}  // namespace
}  // namespace wsgated::net
