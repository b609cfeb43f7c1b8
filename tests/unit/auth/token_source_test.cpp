// Tests for auth/token_source: each place a token may come from, the order they are tried in,
// Bearer stripping, query decoding and cookie parsing.
#include "auth/token_source.h"

#include <gtest/gtest.h>

#include "ws/upgrade.h"

namespace wsgated::auth {
namespace {

using kind = config::token_source::kind;
namespace http = boost::beast::http;

config::token_source query(std::string name) { return {kind::query, std::move(name)}; }
config::token_source header(std::string name) { return {kind::header, std::move(name)}; }
config::token_source cookie(std::string name) { return {kind::cookie, std::move(name)}; }

ws::upgrade_request request(std::string target,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    ws::upgrade_request req{http::verb::get, target, 11};
    for (auto& [name, value] : headers) req.insert(name, value);
    return req;
}

std::optional<std::string> find(const ws::upgrade_request& req,
                                std::vector<config::token_source> from) {
    return find_token(req.target(), req, from);
}

// ---- query ----

TEST(token_source, query_parameter) {
    EXPECT_EQ(find(request("/feed?token=abc.def.ghi"), {query("token")}), "abc.def.ghi");
    EXPECT_EQ(find(request("/feed?a=1&token=t&b=2"), {query("token")}), "t");
}

TEST(token_source, query_value_is_percent_decoded_and_plus_is_a_space) {
    EXPECT_EQ(find(request("/feed?token=%41b%2Bc%2e"), {query("token")}), "Ab+c.");
    EXPECT_EQ(find(request("/feed?token=a+b"), {query("token")}), "a b");
}

TEST(token_source, query_name_is_decoded_and_matched_exactly) {
    EXPECT_EQ(find(request("/feed?%74oken=v"), {query("token")}), "v");
    EXPECT_EQ(find(request("/feed?xtoken=v&Token=w&token_=u"), {query("token")}), std::nullopt);
}

TEST(token_source, first_query_parameter_of_the_name_wins) {
    EXPECT_EQ(find(request("/feed?token=a&token=b"), {query("token")}), "a");
}

TEST(token_source, query_parameter_with_a_bad_escape_is_absent) {
    EXPECT_EQ(find(request("/feed?token=a%zz"), {query("token")}), std::nullopt);
    EXPECT_EQ(find(request("/feed?token=a%4"), {query("token")}), std::nullopt);
    EXPECT_EQ(find(request("/feed?token=a%"), {query("token"), header("authorization")}),
              std::nullopt);
}

TEST(token_source, no_query_or_empty_value_is_absent) {
    EXPECT_EQ(find(request("/feed"), {query("token")}), std::nullopt);
    EXPECT_EQ(find(request("/feed?token="), {query("token")}), std::nullopt);
    EXPECT_EQ(find(request("/feed?token"), {query("token")}), std::nullopt);
    EXPECT_EQ(find(request("/feed?"), {query("token")}), std::nullopt);
}

TEST(token_source, fragment_is_not_part_of_the_query) {
    EXPECT_EQ(find(request("/feed?token=a#b"), {query("token")}), "a");
}

// ---- headers ----

TEST(token_source, authorization_bearer_prefix_is_stripped_in_any_case) {
    for (std::string value : {"Bearer abc", "bearer abc", "BEARER abc", "Bearer   abc  "})
        EXPECT_EQ(find(request("/", {{"Authorization", value}}), {header("authorization")}), "abc")
            << value;
}

TEST(token_source, authorization_without_bearer_is_used_as_is) {
    EXPECT_EQ(find(request("/", {{"Authorization", "abc.def"}}), {header("authorization")}),
              "abc.def");
    EXPECT_EQ(find(request("/", {{"Authorization", "Bearerabc"}}), {header("authorization")}),
              "Bearerabc");
}

TEST(token_source, bearer_without_a_token_is_absent) {
    EXPECT_EQ(find(request("/", {{"Authorization", "Bearer "}}), {header("authorization")}),
              std::nullopt);
}

TEST(token_source, other_headers_are_used_as_is) {
    EXPECT_EQ(find(request("/", {{"X-Token", "Bearer abc"}}), {header("x-token")}), "Bearer abc");
    EXPECT_EQ(find(request("/", {{"x-token", "abc"}}), {header("x-token")}), "abc");
}

TEST(token_source, header_names_match_in_any_case) {
    EXPECT_EQ(find(request("/", {{"X-TOKEN", "abc"}}), {header("x-token")}), "abc");
}

// ---- cookies ----

TEST(token_source, cookie_among_several_pairs) {
    auto req = request("/", {{"Cookie", "a=1; session=tok.en; b=2"}});
    EXPECT_EQ(find(req, {cookie("session")}), "tok.en");
    EXPECT_EQ(find(req, {cookie("a")}), "1");
    EXPECT_EQ(find(req, {cookie("b")}), "2");
}

TEST(token_source, cookie_in_a_second_cookie_header) {
    auto req = request("/", {{"Cookie", "a=1"}, {"Cookie", "b=2; session=tok"}});
    EXPECT_EQ(find(req, {cookie("session")}), "tok");
}

TEST(token_source, cookie_names_match_exactly) {
    auto req = request("/", {{"Cookie", "xsession=1; Session=2; session_=3"}});
    EXPECT_EQ(find(req, {cookie("session")}), std::nullopt);
}

TEST(token_source, cookie_value_loses_its_quotes_and_keeps_its_equals_signs) {
    EXPECT_EQ(find(request("/", {{"Cookie", "session=\"tok\""}}), {cookie("session")}), "tok");
    EXPECT_EQ(find(request("/", {{"Cookie", "session=a=b"}}), {cookie("session")}), "a=b");
}

TEST(token_source, cookies_tolerate_missing_spaces_and_pairs_without_values) {
    auto req = request("/", {{"Cookie", "flag;a=1;session=tok"}});
    EXPECT_EQ(find(req, {cookie("session")}), "tok");
}

TEST(token_source, first_cookie_of_the_name_wins) {
    auto req = request("/", {{"Cookie", "session=one; session=two"}});
    EXPECT_EQ(find(req, {cookie("session")}), "one");
}

// ---- order ----

TEST(token_source, places_are_tried_in_the_order_given) {
    auto req = request("/feed?token=q", {{"Authorization", "Bearer h"}, {"Cookie", "s=c"}});
    EXPECT_EQ(find(req, {query("token"), header("authorization"), cookie("s")}), "q");
    EXPECT_EQ(find(req, {header("authorization"), query("token"), cookie("s")}), "h");
    EXPECT_EQ(find(req, {cookie("s"), query("token"), header("authorization")}), "c");
}

TEST(token_source, an_absent_or_empty_place_falls_through_to_the_next) {
    auto req = request("/feed?token=", {{"Authorization", "Bearer"}, {"Cookie", "s=c"}});
    EXPECT_EQ(find(req, {query("token"), header("authorization"), cookie("s")}), "c");
}

TEST(token_source, nothing_found_is_nullopt) {
    EXPECT_EQ(find(request("/feed"), {query("token"), header("authorization"), cookie("s")}),
              std::nullopt);
    EXPECT_EQ(find(request("/feed?token=q"), {}), std::nullopt);
}

}  // namespace
}  // namespace wsgated::auth
