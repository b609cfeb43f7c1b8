// Tests for config/env_expand: ${VAR} and ${VAR:-default} in scalar values.
#include "loader/env_expand.h"

#include <gtest/gtest.h>

#include <map>

namespace wsgated::config {
namespace {

env_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

const env_lookup env = fake_env({{"HOST", "10.0.0.1"}, {"PORT", "8080"}, {"EMPTY", ""}});

std::string expanded(std::string_view text) {
    std::string out, error;
    EXPECT_TRUE(expand_env(text, env, out, error)) << text << ": " << error;
    return out;
}

std::string expand_error(std::string_view text) {
    std::string out, error;
    EXPECT_FALSE(expand_env(text, env, out, error)) << text;
    return error;
}

TEST(env_expand, text_without_references_is_unchanged) {
    EXPECT_EQ(expanded("plain text"), "plain text");
    EXPECT_EQ(expanded(""), "");
}

TEST(env_expand, set_variables_are_replaced) {
    EXPECT_EQ(expanded("${HOST}:${PORT}"), "10.0.0.1:8080");
    EXPECT_EQ(expanded("http://${HOST}/ws"), "http://10.0.0.1/ws");
}

TEST(env_expand, unset_variable_without_default_becomes_empty) {
    EXPECT_EQ(expanded("${WSGATED_ADMIN_TOKEN}"), "");
    EXPECT_EQ(expanded("a${NOPE}b"), "ab");
}

TEST(env_expand, default_applies_when_unset_or_empty) {
    EXPECT_EQ(expanded("${NOPE:-30s}"), "30s");
    EXPECT_EQ(expanded("${EMPTY:-fallback}"), "fallback");
    EXPECT_EQ(expanded("${PORT:-9999}"), "8080");
    EXPECT_EQ(expanded("${NOPE:-}"), "");
}

TEST(env_expand, default_is_literal_up_to_the_closing_brace) {
    EXPECT_EQ(expanded("${NOPE:-a:b-c $x}"), "a:b-c $x");
}

TEST(env_expand, double_dollar_is_a_literal_dollar) {
    EXPECT_EQ(expanded("$${HOST}"), "${HOST}");
    EXPECT_EQ(expanded("pa$$word"), "pa$word");
}

TEST(env_expand, lone_dollar_is_kept) {
    EXPECT_EQ(expanded("pa$word"), "pa$word");
    EXPECT_EQ(expanded("cost: 5$"), "cost: 5$");
}

TEST(env_expand, unterminated_reference_is_an_error) {
    EXPECT_EQ(expand_error("${HOST"), "unterminated '${' in '${HOST'");
    EXPECT_EQ(expand_error("a ${NOPE:-x"), "unterminated '${' in 'a ${NOPE:-x'");
}

TEST(env_expand, bad_variable_name_is_an_error) {
    const std::string rule = " (letters, digits and '_', not starting with a digit)";
    EXPECT_EQ(expand_error("${1ABC}"), "bad variable name in '${1ABC}'" + rule);
    EXPECT_EQ(expand_error("${}"), "bad variable name in '${}'" + rule);
    EXPECT_EQ(expand_error("${A-B}"), "bad variable name in '${A-B}'" + rule);
}

TEST(env_expand, variable_values_are_not_expanded_again) {
    env_lookup nested = fake_env({{"A", "${B}"}, {"B", "x"}});
    std::string out, error;
    ASSERT_TRUE(expand_env("${A}", nested, out, error));
    EXPECT_EQ(out, "${B}");
}

TEST(env_expand, process_env_reads_the_environment) {
    ::setenv("WSGATED_ENV_EXPAND_TEST", "yes", 1);
    std::string out, error;
    ASSERT_TRUE(expand_env("${WSGATED_ENV_EXPAND_TEST}", process_env(), out, error));
    EXPECT_EQ(out, "yes");
    ::unsetenv("WSGATED_ENV_EXPAND_TEST");
}

}  // namespace
}  // namespace wsgated::config
