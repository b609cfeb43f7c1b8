// Tests for auth/base64url: RFC 4648 §10's vectors in the URL alphabet, and every way of
// spelling bytes other than the one canonical way is refused.
#include "auth/base64url.h"

#include <gtest/gtest.h>

namespace wsgated::auth {
namespace {

TEST(base64url, decodes_the_rfc_4648_vectors_without_padding) {
    EXPECT_EQ(base64url_decode(""), "");
    EXPECT_EQ(base64url_decode("Zg"), "f");
    EXPECT_EQ(base64url_decode("Zm8"), "fo");
    EXPECT_EQ(base64url_decode("Zm9v"), "foo");
    EXPECT_EQ(base64url_decode("Zm9vYg"), "foob");
    EXPECT_EQ(base64url_decode("Zm9vYmE"), "fooba");
    EXPECT_EQ(base64url_decode("Zm9vYmFy"), "foobar");
}

TEST(base64url, uses_the_url_alphabet) {
    EXPECT_EQ(base64url_decode("-_-_"), std::string("\xfb\xff\xbf"));
    EXPECT_EQ(base64url_decode("+/+/"), std::nullopt);
}

TEST(base64url, refuses_padding) {
    EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm8="), std::nullopt);
}

TEST(base64url, refuses_characters_outside_the_alphabet) {
    EXPECT_EQ(base64url_decode("Zm 9v"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9v\n"), std::nullopt);
    EXPECT_EQ(base64url_decode(std::string("Zm\0v", 4)), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9.v"), std::nullopt);
}

TEST(base64url, refuses_a_length_that_cannot_hold_whole_bytes) {
    // 'A' is 0: its six bits would pass the unused-bits check, so only the length refuses.
    EXPECT_EQ(base64url_decode("A"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9vA"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9vY"), std::nullopt);
}

TEST(base64url, refuses_non_zero_unused_bits) {
    EXPECT_EQ(base64url_decode("Zh"), std::nullopt);   // "Zg" with a low bit set
    EXPECT_EQ(base64url_decode("Zm9"), std::nullopt);  // "Zm8" with a low bit set
}

}  // namespace
}  // namespace wsgated::auth
