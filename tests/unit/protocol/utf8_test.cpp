// Tests for ws/utf8.
#include "protocol/utf8.h"

#include <gtest/gtest.h>

using wsgated::protocol::valid_utf8;

TEST(utf8, accepts_valid_text) {
    EXPECT_TRUE(valid_utf8(""));
    EXPECT_TRUE(valid_utf8("hello"));
    EXPECT_TRUE(valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
    EXPECT_TRUE(valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
    EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(utf8, refuses_invalid_sequences) {
    EXPECT_FALSE(valid_utf8("\x80"));                  // lone continuation
    EXPECT_FALSE(valid_utf8("\xC0\xAF"));              // overlong '/'
    EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));          // overlong, 3 bytes
    EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));          // surrogate U+D800
    EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));      // past U+10FFFF
    EXPECT_FALSE(valid_utf8("\xC3"));                  // truncated at the end
    EXPECT_FALSE(valid_utf8("\xE2\x82"));
    EXPECT_FALSE(valid_utf8("a\xFF" "b"));
    EXPECT_FALSE(valid_utf8("\xC3\x28"));              // bad continuation
}

// Found by fuzzing (issue 16): Beast delivered "caf\xC3" as text when its last frame was empty.
TEST(utf8, a_sequence_cut_at_the_end_is_seen) {
    using wsgated::protocol::ends_mid_sequence;
    EXPECT_TRUE(ends_mid_sequence("caf\xC3"));
    EXPECT_TRUE(ends_mid_sequence("\xE2\x82"));        // 3-byte sequence, 2 present
    EXPECT_TRUE(ends_mid_sequence("a\xF0\x9F\x98"));   // 4-byte sequence, 3 present
    EXPECT_TRUE(ends_mid_sequence("\xF0"));
    EXPECT_FALSE(ends_mid_sequence("caf\xC3\xA9"));
    EXPECT_FALSE(ends_mid_sequence("\xE2\x82\xAC"));
    EXPECT_FALSE(ends_mid_sequence("a\xF0\x9F\x98\x80"));
    EXPECT_FALSE(ends_mid_sequence(""));
    EXPECT_FALSE(ends_mid_sequence("plain ascii"));
}
