// Tests for metrics/exposition and registry::Collect: what `GET /metrics` writes, through
// prometheus-cpp's TextSerializer, from our per-worker registry.
#include "metrics/exposition.h"
#include "metrics/registry.h"

#include <string>
#include <thread>

#include <gtest/gtest.h>

using namespace wsgated::metrics;

namespace {

std::string expose(const registry& r) { return serialize(r.Collect()); }

// The value of the one sample of an unlabelled family `name`, as written.
std::string sample_of(const std::string& text, const std::string& name) {
    auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return "<none>";
    at += name.size() + 2;
    return text.substr(at, text.find('\n', at) - at);
}

}  // namespace

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
              "latency_seconds_count{backend=\"x\"} 3\n"
              "latency_seconds_sum{backend=\"x\"} 2.55\n"
              "latency_seconds_bucket{backend=\"x\",le=\"0.1\"} 1\n"
              "latency_seconds_bucket{backend=\"x\",le=\"1\"} 2\n"
              "latency_seconds_bucket{backend=\"x\",le=\"+Inf\"} 3\n"
              // prometheus-cpp writes HELP as given: the registry escapes the newline first.
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
              "h_seconds_count 7\n"
              "h_seconds_sum 7.156\n"
              "h_seconds_bucket{le=\"0.001\"} 2\n"
              "h_seconds_bucket{le=\"0.01\"} 3\n"
              "h_seconds_bucket{le=\"0.1\"} 6\n"
              "h_seconds_bucket{le=\"+Inf\"} 7\n");
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

TEST(exposition, negative_gauges_and_large_counters_are_written_whole) {
    registry r;
    r.add_gauge("g", "G.").with({}).set(-5);
    r.add_counter("bytes_total", "B.").with({}).inc(4398046511104);  // 4 TiB
    auto text = expose(r);
    EXPECT_EQ(sample_of(text, "g"), "-5");
    EXPECT_EQ(sample_of(text, "bytes_total"), "4398046511104");
}

TEST(exposition, label_values_are_escaped_in_samples) {
    registry r;
    r.add_counter("c_total", "C.", {"k", "j"}).with({"a\"b\\c\nd", ""}).inc();
    EXPECT_EQ(expose(r),
              "# HELP c_total C.\n# TYPE c_total counter\n"
              "c_total{k=\"a\\\"b\\\\c\\nd\",j=\"\"} 1\n");
}

TEST(exposition, invalid_utf8_in_label_values_becomes_replacement_characters) {
    registry r;
    auto& f = r.add_counter("c_total", "C.", {"k"});
    f.with({"a\xff" "b"}).inc();
    f.with({"\xC0\xAF"}).inc();        // overlong '/'
    f.with({"\xED\xA0\x80"}).inc();    // surrogate
    f.with({"x\xE2\x82"}).inc();       // truncated
    f.with({"gr\xC3\xBC\xC3\x9F" "e \xF0\x9F\x98\x80"}).inc();  // valid: kept
    auto text = expose(r);
    for (const char* want : {"{k=\"a\xEF\xBF\xBD" "b\"}", "{k=\"\xEF\xBF\xBD\xEF\xBF\xBD\"}",
                             "{k=\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}", "{k=\"x\xEF\xBF\xBD\xEF\xBF\xBD\"}",
                             "{k=\"gr\xC3\xBC\xC3\x9F" "e \xF0\x9F\x98\x80\"}"})
        EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
}

// Per-worker slots: each thread counts into its own, the scrape sums them all.
TEST(exposition, slots_of_every_worker_are_summed) {
    registry r(3);
    counter& c = r.add_counter("c_total", "C.").with({});
    histogram& h = r.add_histogram("h_seconds", "H.", {1}).with({});
    auto work = [&](unsigned slot) {
        set_thread_slot(slot);
        for (int i = 0; i < 1000; ++i) {
            c.inc();
            h.observe(0.5);
        }
    };
    std::thread a(work, 1), b(work, 2), d(work, 7);  // 7: past the count, folds into slot 0
    a.join();
    b.join();
    d.join();
    c.inc(5);  // this thread: slot 0
    auto text = expose(r);
    EXPECT_EQ(sample_of(text, "c_total"), "3005");
    EXPECT_EQ(sample_of(text, "h_seconds_count"), "3000");
    EXPECT_EQ(sample_of(text, "h_seconds_sum"), "1500");
}
