// Tests for route/path_pattern.
#include "route/path_pattern.h"

#include <gtest/gtest.h>

using wsgated::route::params;
using wsgated::route::path_pattern;

namespace {

path_pattern compile(std::string_view text) {
    path_pattern p;
    std::string error;
    EXPECT_TRUE(path_pattern::parse(text, p, error)) << text << ": " << error;
    return p;
}

std::string parse_error(std::string_view text) {
    path_pattern p;
    std::string error;
    EXPECT_FALSE(path_pattern::parse(text, p, error)) << text;
    return error;
}

}  // namespace

TEST(path_pattern, literal_matches_exactly) {
    auto p = compile("/echo");
    params out;
    EXPECT_TRUE(p.match("/echo", out));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(p.match("/echo/", out));
    EXPECT_FALSE(p.match("/echoes", out));
    EXPECT_FALSE(p.match("/Echo", out));
    EXPECT_FALSE(p.match("/", out));
}

TEST(path_pattern, root_matches_only_root) {
    auto p = compile("/");
    params out;
    EXPECT_TRUE(p.match("/", out));
    EXPECT_FALSE(p.match("/a", out));
}

TEST(path_pattern, param_matches_one_segment) {
    auto p = compile("/chat/{room}");
    params out;
    ASSERT_TRUE(p.match("/chat/lobby", out));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, "room");
    EXPECT_EQ(out[0].second, "lobby");
    EXPECT_FALSE(p.match("/chat/", out));
    EXPECT_FALSE(p.match("/chat", out));
    EXPECT_FALSE(p.match("/chat/a/b", out));
}

TEST(path_pattern, several_params_in_order) {
    auto p = compile("/t/{tenant}/r/{room}");
    params out;
    ASSERT_TRUE(p.match("/t/acme/r/42", out));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], (std::pair<std::string, std::string>{"tenant", "acme"}));
    EXPECT_EQ(out[1], (std::pair<std::string, std::string>{"room", "42"}));
    EXPECT_EQ(p.param_names(), (std::vector<std::string>{"tenant", "room"}));
}

TEST(path_pattern, param_value_is_percent_decoded) {
    auto p = compile("/chat/{room}");
    params out;
    ASSERT_TRUE(p.match("/chat/a%20b%C3%A9", out));
    EXPECT_EQ(out[0].second, "a b\xC3\xA9");
}

TEST(path_pattern, encoded_slash_nul_and_bad_escapes_do_not_match) {
    auto p = compile("/chat/{room}");
    params out;
    EXPECT_FALSE(p.match("/chat/a%2Fb", out));
    EXPECT_FALSE(p.match("/chat/a%00", out));
    EXPECT_FALSE(p.match("/chat/a%zz", out));
    EXPECT_FALSE(p.match("/chat/a%4", out));
    EXPECT_FALSE(p.match("/chat/%", out));
}

// Found from outside (issue 16): these reached the backend raw in WSGate-Params (not JSON text).
TEST(path_pattern, a_value_that_is_not_utf8_does_not_match) {
    auto p = compile("/chat/{room}");
    params out;
    EXPECT_FALSE(p.match("/chat/%ff%fe%80", out));
    EXPECT_FALSE(p.match("/chat/%C3", out));          // cut short
    EXPECT_FALSE(p.match("/chat/%C0%AF", out));       // overlong '/'
    EXPECT_FALSE(p.match("/chat/%ED%A0%80", out));    // a surrogate
    EXPECT_FALSE(p.match("/chat/raw\xff", out));      // unescaped bytes too
    EXPECT_TRUE(p.match("/chat/%F0%9F%98%80", out));  // U+1F600 is fine
}

TEST(path_pattern, rejects_bad_patterns_with_a_reason) {
    EXPECT_EQ(parse_error(""), "must start with '/'");
    EXPECT_EQ(parse_error("chat"), "must start with '/'");
    EXPECT_EQ(parse_error("/a?b"), "must not contain '?' or '#'");
    EXPECT_EQ(parse_error("/{a}/{a}"), "duplicate parameter 'a'");
    EXPECT_NE(parse_error("/x{a}").find("whole segment"), std::string::npos);
    EXPECT_NE(parse_error("/{a"), "");
    EXPECT_NE(parse_error("/{}").find("bad parameter name"), std::string::npos);
    EXPECT_NE(parse_error("/{a-b}").find("bad parameter name"), std::string::npos);
}
