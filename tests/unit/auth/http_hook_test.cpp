// Tests for auth/http_hook's reading of the hook's answer (the network side is in
// tests/e2e/test_auth_hook.py).
#include "auth/http_hook.h"

#include <gtest/gtest.h>

using namespace wsgated;

namespace {
http_client::http_response hook_answer(unsigned status, std::string body, std::string type = "application/json") {
    http_client::http_response r;
    r.result(status);
    r.set(boost::beast::http::field::content_type, type);
    r.body() = std::move(body);
    return r;
}
}  // namespace

TEST(auth_result, labels_and_failure_reasons) {
    EXPECT_EQ(auth::label(auth::auth_result::cache_hit), "cache_hit");
    EXPECT_EQ(auth::label(auth::auth_result::timeout), "timeout");
    EXPECT_EQ(auth::failure_reason(auth::auth_result::timeout), "auth_timeout");
    EXPECT_EQ(auth::failure_reason(auth::auth_result::error), "auth_error");
    EXPECT_EQ(auth::failure_reason(auth::auth_result::denied), "auth_denied");
}

TEST(http_hook, accepts_user_rooms_claims) {
    auto o = auth::read_hook_answer(hook_answer(
        200, R"({"user":"u1","rooms":["a","b"],"claims":{"tenant":"acme","n":3,"ok":true,"x":{"y":1}}})"));
    ASSERT_TRUE(o.accepted);
    EXPECT_EQ(o.result, auth::auth_result::ok);
    EXPECT_EQ(o.who.user, "u1");
    EXPECT_EQ(o.who.rooms, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(o.who.claims.at("tenant"), "acme");
    EXPECT_EQ(o.who.claims.at("n"), "3");
    EXPECT_EQ(o.who.claims.at("ok"), "true");
    EXPECT_FALSE(o.who.claims.contains("x"));  // nested: JSON only
    EXPECT_NE(o.who.claims_json.find("\"x\""), std::string::npos);
}

TEST(http_hook, empty_body_is_anonymous) {
    auto o = auth::read_hook_answer(hook_answer(204, ""));
    ASSERT_TRUE(o.accepted);
    EXPECT_TRUE(o.who.user.empty());
}

TEST(http_hook, refusal_passes_status_body_and_headers) {
    auto res = hook_answer(403, "go away\n", "text/plain");
    res.set(boost::beast::http::field::www_authenticate, "Bearer");
    res.set("X-Internal", "secret");
    auto o = auth::read_hook_answer(res);
    EXPECT_FALSE(o.accepted);
    EXPECT_EQ(o.status, 403u);
    EXPECT_EQ(o.body, "go away\n");
    EXPECT_EQ(o.result, auth::auth_result::denied);
    bool www = false, internal = false;
    for (auto& [k, v] : o.headers) {
        www |= k == "WWW-Authenticate" && v == "Bearer";
        internal |= k == "X-Internal";
    }
    EXPECT_TRUE(www);
    EXPECT_FALSE(internal);  // only the headers a client needs are passed on
}

TEST(http_hook, malformed_answers_are_503_errors) {
    for (const char* body : {"{", "[]", R"({"user":5})", R"({"user":"a\nb"})", R"({"user":""})",
                             R"({"rooms":"a"})", R"({"rooms":[1]})", R"({"claims":[]})"}) {
        auto o = auth::read_hook_answer(hook_answer(200, body));
        EXPECT_FALSE(o.accepted) << body;
        EXPECT_EQ(o.status, 503u) << body;
        EXPECT_EQ(o.result, auth::auth_result::error) << body;
    }
}
