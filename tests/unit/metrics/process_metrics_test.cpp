// Tests for metrics/process_metrics.
#include "metrics/process_metrics.h"
#include "metrics/exposition.h"

#include <chrono>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

using namespace wsgated::metrics;

namespace {

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// proc(5) layout: pid (comm) state, then fields 4..52. Fields 14/15 utime/stime, 22 starttime,
// 23 vsize, 24 rss; everything else 0.
std::string fake_stat(std::string_view comm) {
    std::string s = "1234 (" + std::string(comm) + ") S";
    for (int field = 4; field <= 52; ++field) {
        int v = field == 14 ? 150 : field == 15 ? 50 : field == 22 ? 1000 : field == 23 ? 8192
              : field == 24 ? 3 : 0;
        s += ' ' + std::to_string(v);
    }
    return s + '\n';
}

}  // namespace

TEST(process_metrics, resident_memory_is_positive_and_within_virtual) {
    auto m = process_metrics::read();
    ASSERT_TRUE(m.resident_memory_bytes && m.virtual_memory_bytes);
    EXPECT_GT(*m.resident_memory_bytes, 0);
    EXPECT_GE(*m.virtual_memory_bytes, *m.resident_memory_bytes);
}

TEST(process_metrics, open_fds_include_stdin_stdout_stderr) {
    auto m = process_metrics::read();
    ASSERT_TRUE(m.open_fds);
    EXPECT_GE(*m.open_fds, 3);
}

TEST(process_metrics, max_fds_is_at_least_open_fds) {
    auto m = process_metrics::read();
    ASSERT_TRUE(m.max_fds && m.open_fds);
    EXPECT_GE(*m.max_fds, *m.open_fds);
}

TEST(process_metrics, start_time_is_within_the_last_hour) {
    auto m = process_metrics::read();
    ASSERT_TRUE(m.start_time_seconds);
    EXPECT_LE(*m.start_time_seconds, now_seconds() + 1);  // btime is whole seconds
    EXPECT_GT(*m.start_time_seconds, now_seconds() - 3600);
}

TEST(process_metrics, cpu_seconds_is_small_and_not_negative) {
    auto m = process_metrics::read();
    ASSERT_TRUE(m.cpu_seconds);
    EXPECT_GE(*m.cpu_seconds, 0);
    EXPECT_LT(*m.cpu_seconds, 3600);
}

TEST(process_metrics, stat_parser_survives_spaces_and_parens_in_the_command_name) {
    auto st = parse_proc_stat(fake_stat("a) (b c"));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->utime_ticks, 150);
    EXPECT_EQ(st->stime_ticks, 50);
    EXPECT_EQ(st->start_ticks, 1000);
    EXPECT_EQ(st->vsize_bytes, 8192);
    EXPECT_EQ(st->rss_pages, 3);
}

TEST(process_metrics, stat_parser_rejects_truncated_text) {
    EXPECT_FALSE(parse_proc_stat("1234 (x) S 1 2 3"));
    EXPECT_FALSE(parse_proc_stat(""));
}

TEST(process_metrics, limits_parser_reads_the_soft_open_files_limit) {
    std::string limits =
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max cpu time              unlimited            unlimited            seconds   \n"
        "Max open files            1024                 524288               files     \n";
    EXPECT_EQ(parse_max_open_files(limits), 1024);
}

TEST(process_metrics, limits_parser_reads_unlimited_as_infinity) {
    auto v = parse_max_open_files("Max open files    unlimited    unlimited    files\n");
    ASSERT_TRUE(v);
    EXPECT_TRUE(std::isinf(*v));
}

TEST(process_metrics, boot_time_parser_finds_the_btime_row) {
    std::string stat = "cpu  1 2 3 4\nintr 5 6\nbtime 1700000000\nprocesses 77\n";
    EXPECT_EQ(parse_boot_time(stat), 1700000000);
    EXPECT_FALSE(parse_boot_time("cpu 1 2 3\n"));
}

namespace {
std::string serialized(process_collector& c, const process_metrics& m) { return serialize(c.collect(m)); }
}  // namespace

TEST(process_metrics, every_value_read_is_written_with_help_and_type) {
    process_collector c;
    std::string out = serialize(c.collect());
    for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                             "process_virtual_memory_bytes", "process_open_fds",
                             "process_max_fds", "process_start_time_seconds"}) {
        EXPECT_NE(out.find(std::string("# HELP ") + name + ' '), std::string::npos) << name;
        EXPECT_NE(out.find(std::string("# TYPE ") + name + ' '), std::string::npos) << name;
        EXPECT_NE(out.find(std::string("\n") + name + ' '), std::string::npos) << name;
    }
    EXPECT_NE(out.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
}

TEST(process_metrics, values_that_could_not_be_read_are_left_out) {
    process_collector c;
    process_metrics m;
    m.open_fds = 7;
    EXPECT_EQ(serialized(c, m),
              "# HELP process_open_fds Number of open file descriptors.\n"
              "# TYPE process_open_fds gauge\n"
              "process_open_fds 7\n");
    EXPECT_EQ(serialized(c, process_metrics{}), "") << "gone once it cannot be read";
}

TEST(process_metrics, the_cpu_counter_follows_the_kernels_count) {
    process_collector c;
    process_metrics m;
    m.cpu_seconds = 1.5;
    EXPECT_NE(serialized(c, m).find("\nprocess_cpu_seconds_total 1.5\n"), std::string::npos);
    m.cpu_seconds = 4.25;
    EXPECT_NE(serialized(c, m).find("\nprocess_cpu_seconds_total 4.25\n"), std::string::npos);
}
