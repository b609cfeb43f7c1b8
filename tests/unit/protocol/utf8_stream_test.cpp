// Tests for protocol/utf8_stream: the same verdicts as protocol::valid_utf8 however the text is
// cut, and the first bad byte refused at once.
#include "protocol/utf8_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/utf8.h"

using wsgated::protocol::utf8_stream;

namespace {

// Fed in two pieces cut at `at`: whether every piece was accepted and the text ended complete.
bool valid_cut_at(const std::string& s, std::size_t at) {
    utf8_stream u;
    return u.feed(std::string_view(s).substr(0, at)) && u.feed(std::string_view(s).substr(at)) && u.complete();
}

}  // namespace

TEST(utf8_stream, agrees_with_the_whole_text_validator_at_every_cut) {
    const std::vector<std::string> texts = {
        "", "ascii only, long enough for the eight-byte path", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80 ok",
        "\xc3",                  // cut sequence
        "\xe0\x80\x80",          // overlong
        "\xed\xa0\x80",          // surrogate
        "\xf4\x90\x80\x80",      // past U+10FFFF
        "\xc0\xaf", "\xff", "\x80", "ab\xf5", "12345678\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
    };
    for (const auto& t : texts)
        for (std::size_t at = 0; at <= t.size(); ++at)
            EXPECT_EQ(valid_cut_at(t, at), wsgated::protocol::valid_utf8(t)) << "text #" << (&t - texts.data()) << " cut at " << at;
}

TEST(utf8_stream, a_bad_byte_is_refused_before_the_text_ends) {
    utf8_stream u;
    EXPECT_TRUE(u.feed("\xce\xba\xe1\xbd\xb9"));
    EXPECT_FALSE(u.feed("\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"));  // a surrogate inside the piece
    utf8_stream v;
    EXPECT_TRUE(v.feed("\xf4"));
    EXPECT_FALSE(v.feed("\x90"));  // F4 90: can only be past U+10FFFF, refused at its second byte
}

TEST(utf8_stream, complete_only_between_code_points) {
    utf8_stream u;
    EXPECT_TRUE(u.complete());
    EXPECT_TRUE(u.feed("\xf0\x9f"));
    EXPECT_FALSE(u.complete());
    EXPECT_TRUE(u.feed("\x98\x80"));
    EXPECT_TRUE(u.complete());
}
