// Tests for config/units: duration and size text.
#include "loader/units.h"

#include <gtest/gtest.h>

namespace wsgated::config {
namespace {

using namespace std::chrono_literals;

duration ok_duration(std::string_view text) {
    duration d{};
    std::string error;
    EXPECT_TRUE(parse_duration(text, d, error)) << text << ": " << error;
    return d;
}

std::string duration_error(std::string_view text) {
    duration d{};
    std::string error;
    EXPECT_FALSE(parse_duration(text, d, error)) << text;
    return error;
}

std::uint64_t ok_size(std::string_view text) {
    std::uint64_t n = 0;
    std::string error;
    EXPECT_TRUE(parse_size(text, n, error)) << text << ": " << error;
    return n;
}

std::string size_error(std::string_view text) {
    std::uint64_t n = 0;
    std::string error;
    EXPECT_FALSE(parse_size(text, n, error)) << text;
    return error;
}

TEST(units, duration_units_scale_to_milliseconds) {
    EXPECT_EQ(ok_duration("250ms"), 250ms);
    EXPECT_EQ(ok_duration("30s"), 30s);
    EXPECT_EQ(ok_duration("5m"), 5min);
    EXPECT_EQ(ok_duration("1h"), 1h);
    EXPECT_EQ(ok_duration("0ms"), 0ms);
}

TEST(units, bare_zero_duration_needs_no_unit) { EXPECT_EQ(ok_duration("0"), 0ms); }

TEST(units, bare_nonzero_duration_asks_for_a_unit) {
    EXPECT_EQ(duration_error("30"), "duration '30' needs a unit: ms, s, m or h (e.g. 30s)");
}

TEST(units, unknown_duration_unit_is_named) {
    EXPECT_EQ(duration_error("5us"), "unknown duration unit 'us' (use ms, s, m or h)");
    EXPECT_EQ(duration_error("5 s"), "unknown duration unit ' s' (use ms, s, m or h)");
    EXPECT_EQ(duration_error("5S"), "unknown duration unit 'S' (use ms, s, m or h)");
}

TEST(units, fractional_duration_is_refused_with_a_hint) {
    EXPECT_EQ(duration_error("1.5s"), "duration must be a whole number (write 1500ms, not 1.5s)");
}

TEST(units, negative_duration_is_refused) {
    EXPECT_EQ(duration_error("-1s"), "duration must not be negative");
}

TEST(units, junk_and_empty_durations_are_refused) {
    EXPECT_EQ(duration_error("soon"), "'soon' is not a duration");
    EXPECT_EQ(duration_error("+5s"), "'+5s' is not a duration");
    EXPECT_EQ(duration_error(""), "empty value; expected a duration such as 30s");
}

TEST(units, duration_overflow_is_refused) {
    EXPECT_EQ(duration_error("99999999999999999999s"),
              "duration '99999999999999999999s' is too large");
    // Fits in 64 bits as hours but not as milliseconds.
    EXPECT_EQ(duration_error("9000000000000000h"), "duration '9000000000000000h' is too large");
}

TEST(units, sizes_in_binary_and_decimal_units) {
    EXPECT_EQ(ok_size("512"), 512u);
    EXPECT_EQ(ok_size("512B"), 512u);
    EXPECT_EQ(ok_size("64KiB"), 64u * 1024);
    EXPECT_EQ(ok_size("4MiB"), 4u * 1024 * 1024);
    EXPECT_EQ(ok_size("1GiB"), 1024ull * 1024 * 1024);
    EXPECT_EQ(ok_size("2KB"), 2000u);
    EXPECT_EQ(ok_size("3MB"), 3'000'000u);
    EXPECT_EQ(ok_size("1GB"), 1'000'000'000u);
    EXPECT_EQ(ok_size("0"), 0u);
}

TEST(units, unknown_size_unit_is_named) {
    EXPECT_EQ(size_error("4mb"), "unknown size unit 'mb' (use B, KB, MB, GB, KiB, MiB or GiB)");
    EXPECT_EQ(size_error("1TiB"), "unknown size unit 'TiB' (use B, KB, MB, GB, KiB, MiB or GiB)");
}

TEST(units, junk_negative_and_fractional_sizes_are_refused) {
    EXPECT_EQ(size_error("big"), "'big' is not a size");
    EXPECT_EQ(size_error("-1KiB"), "size must not be negative");
    EXPECT_EQ(size_error("1.5MiB"), "size must be a whole number (write 1536KiB, not 1.5MiB)");
    EXPECT_EQ(size_error(""), "empty value; expected a size such as 64KiB");
}

TEST(units, size_overflow_is_refused) {
    EXPECT_EQ(size_error("18446744073709551616"), "size '18446744073709551616' is too large");
    EXPECT_EQ(size_error("17179869184GiB"), "size '17179869184GiB' is too large");
    EXPECT_EQ(ok_size("18446744073709551615"), 18446744073709551615ull);
}

TEST(units, format_duration_picks_the_largest_exact_unit) {
    EXPECT_EQ(format_duration(0ms), "0");
    EXPECT_EQ(format_duration(1500ms), "1500ms");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(5min), "5m");
    EXPECT_EQ(format_duration(2h), "2h");
}

TEST(units, format_size_picks_the_largest_exact_binary_unit) {
    EXPECT_EQ(format_size(0), "0");
    EXPECT_EQ(format_size(1000), "1000");
    EXPECT_EQ(format_size(1024), "1KiB");
    EXPECT_EQ(format_size(4u * 1024 * 1024), "4MiB");
    EXPECT_EQ(format_size(1024ull * 1024 * 1024), "1GiB");
}

TEST(units, formatted_values_parse_back) {
    for (duration d : std::initializer_list<duration>{0ms, 1ms, 1500ms, 30s, 90min, 25h})
        EXPECT_EQ(ok_duration(format_duration(d)), d);
    for (std::uint64_t n : {0ull, 1ull, 1000ull, 1024ull, 3ull << 20, 5ull << 30})
        EXPECT_EQ(ok_size(format_size(n)), n);
}

}  // namespace
}  // namespace wsgated::config
