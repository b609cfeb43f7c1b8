// Tests for text/split.
#include "text/split.h"

#include <gtest/gtest.h>

using wsgated::text::split;
using v = std::vector<std::string_view>;

TEST(split, keeps_empty_fields) {
    EXPECT_EQ(split("a,,b", ','), (v{"a", "", "b"}));
    EXPECT_EQ(split(",a,", ','), (v{"", "a", ""}));
}

TEST(split, empty_input_is_one_empty_field) {
    EXPECT_EQ(split("", ','), (v{""}));
}

TEST(split, no_delimiter_is_the_whole_input) {
    EXPECT_EQ(split("abc", ';'), (v{"abc"}));
}
