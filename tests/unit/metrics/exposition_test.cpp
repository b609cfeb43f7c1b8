// Tests for metrics/exposition.
#include "metrics/exposition.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

using namespace wsgated::metrics;

namespace {

std::string label_value(std::string_view v) {
    std::string out;
    append_escaped_label_value(out, v);
    return out;
}

std::string help_text(std::string_view v) {
    std::string out;
    append_escaped_help(out, v);
    return out;
}

}  // namespace

TEST(exposition, integers_are_written_without_exponent) {
    EXPECT_EQ(format_double(0), "0");
    EXPECT_EQ(format_double(-0.0), "0");
    EXPECT_EQ(format_double(1), "1");
    EXPECT_EQ(format_double(-2), "-2");
    EXPECT_EQ(format_double(1000000), "1000000");
    EXPECT_EQ(format_double(4096.0 * 1024 * 1024 * 1024), "4398046511104");
}

TEST(exposition, fractions_are_written_as_prometheus_and_go_write_them) {
    EXPECT_EQ(format_double(0.0005), "0.0005");
    EXPECT_EQ(format_double(0.0001), "0.0001");
    EXPECT_EQ(format_double(0.00001), "1e-05");
    EXPECT_EQ(format_double(2.5), "2.5");
    EXPECT_EQ(format_double(0.1), "0.1");
    EXPECT_EQ(format_double(1e300), "1e+300");
}

TEST(exposition, non_finite_values_use_prometheus_spelling) {
    EXPECT_EQ(format_double(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_double(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_double(std::nan("")), "NaN");
}

TEST(exposition, formatted_doubles_read_back_exactly) {
    for (double v : {0.1, 1.0 / 3, 123456.789, 2.2250738585072014e-308, 9007199254740993.0})
        EXPECT_EQ(std::stod(format_double(v)), v) << format_double(v);
}

TEST(exposition, label_values_escape_backslash_quote_and_newline) {
    EXPECT_EQ(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    EXPECT_EQ(label_value("/chat/{room}"), "/chat/{room}");
}

TEST(exposition, help_escapes_backslash_and_newline_but_not_quote) {
    EXPECT_EQ(help_text("a \"q\" b\\c\nd"), "a \"q\" b\\\\c\\nd");
}

TEST(exposition, invalid_utf8_becomes_replacement_characters) {
    EXPECT_EQ(label_value("a\xff" "b"), "a\xEF\xBF\xBD" "b");
    EXPECT_EQ(label_value("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");        // overlong '/'
    EXPECT_EQ(label_value("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    EXPECT_EQ(label_value("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");       // truncated
}

TEST(exposition, valid_utf8_is_kept_as_is) {
    EXPECT_EQ(label_value("gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(exposition, small_registry_matches_golden_text) {
    registry r;
    auto& requests = r.add_counter("http_requests", "Requests served.", {"route"});
    requests.with({"/b"}).inc();
    requests.with({"/a"}).inc(3);
    r.add_gauge("up", "Whether it \"works\".").with({}).set(1);
    auto& latency = r.add_histogram("latency_seconds", "Latency.", {0.1, 1}, {"backend"});
    for (double s : {0.05, 0.5, 2.0}) latency.with({"x"}).observe(s);
    r.add_counter("errors_total", "Errors,\nby reason.", {"reason"});

    EXPECT_EQ(expose(r),
              "# HELP http_requests_total Requests served.\n"
              "# TYPE http_requests_total counter\n"
              "http_requests_total{route=\"/a\"} 3\n"
              "http_requests_total{route=\"/b\"} 1\n"
              "# HELP up Whether it \"works\".\n"
              "# TYPE up gauge\n"
              "up 1\n"
              "# HELP latency_seconds Latency.\n"
              "# TYPE latency_seconds histogram\n"
              "latency_seconds_bucket{backend=\"x\",le=\"0.1\"} 1\n"
              "latency_seconds_bucket{backend=\"x\",le=\"1\"} 2\n"
              "latency_seconds_bucket{backend=\"x\",le=\"+Inf\"} 3\n"
              "latency_seconds_sum{backend=\"x\"} 2.55\n"
              "latency_seconds_count{backend=\"x\"} 3\n"
              "# HELP errors_total Errors,\\nby reason.\n"
              "# TYPE errors_total counter\n");
}

TEST(exposition, histogram_buckets_are_cumulative_and_inf_equals_count) {
    registry r;
    histogram& h = r.add_histogram("h_seconds", "H.", {0.001, 0.01, 0.1}).with({});
    for (double s : {0.0005, 0.0005, 0.005, 0.05, 0.05, 0.05, 7.0}) h.observe(s);

    EXPECT_EQ(expose(r),
              "# HELP h_seconds H.\n"
              "# TYPE h_seconds histogram\n"
              "h_seconds_bucket{le=\"0.001\"} 2\n"
              "h_seconds_bucket{le=\"0.01\"} 3\n"
              "h_seconds_bucket{le=\"0.1\"} 6\n"
              "h_seconds_bucket{le=\"+Inf\"} 7\n"
              "h_seconds_sum 7.156\n"
              "h_seconds_count 7\n");
}

TEST(exposition, unlabelled_counter_and_gauge_show_zero_before_use) {
    registry r;
    r.add_counter("events_total", "E.");
    r.add_gauge("level", "L.");
    EXPECT_EQ(expose(r),
              "# HELP events_total E.\n# TYPE events_total counter\nevents_total 0\n"
              "# HELP level L.\n# TYPE level gauge\nlevel 0\n");
}

TEST(exposition, labelled_family_without_cells_prints_only_help_and_type) {
    registry r;
    r.add_gauge("conns", "C.", {"route"});
    EXPECT_EQ(expose(r), "# HELP conns C.\n# TYPE conns gauge\n");
}

TEST(exposition, negative_gauges_are_written_with_their_sign) {
    registry r;
    r.add_gauge("g", "G.").with({}).set(-5);
    EXPECT_EQ(expose(r), "# HELP g G.\n# TYPE g gauge\ng -5\n");
}

TEST(exposition, label_values_are_escaped_in_samples) {
    registry r;
    r.add_counter("c_total", "C.", {"k", "j"}).with({"a\"b\\c\nd", ""}).inc();
    EXPECT_EQ(expose(r),
              "# HELP c_total C.\n# TYPE c_total counter\n"
              "c_total{k=\"a\\\"b\\\\c\\nd\",j=\"\"} 1\n");
}
