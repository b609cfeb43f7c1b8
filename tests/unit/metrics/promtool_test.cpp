// Checks a full gateway_metrics scrape with Prometheus's own linter, `promtool check metrics`
// (SPEC §7: it must find no problem). promtool comes from Debian's `prometheus` package; CI
// installs it, so a missing promtool fails the test instead of skipping it.
#include "metrics/gateway_metrics.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

using namespace wsgated::metrics;

namespace {

// docs/metrics.md from the source tree: CMake passes the test data folder; the hand-run
// build runs from the repository root.
#ifdef WSGATED_TEST_DATA
const std::string docs_path = WSGATED_TEST_DATA "/../../docs/metrics.md";
#else
const std::string docs_path = "docs/metrics.md";
#endif

// Label values chosen to break a careless writer: quote, backslash, newline, invalid UTF-8.
constexpr std::string_view awkward = "a\"b\\c\nd";
constexpr std::string_view not_utf8 = "x\xff\xfe";

std::string find_in_path(std::string_view program) {
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!dirs.empty()) {
        auto colon = dirs.find(':');
        std::string candidate = std::string(dirs.substr(0, colon)) + '/' + std::string(program);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    }
    return {};
}

struct promtool_result {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

// Runs `promtool check metrics < file` on `text`, via a temporary file as CI would.
promtool_result check_metrics(const std::string& promtool, const std::string& text) {
    std::string file = testing::TempDir() + "wsgated_metrics_XXXXXX";
    int fd = ::mkstemp(file.data());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);

    promtool_result r;
    std::string cmd = "'" + promtool + "' check metrics < '" + file + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr);
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ::unlink(file.c_str());
    return r;
}

// Counts at least once in every family, with awkward values for every label.
void count_everything(gateway_metrics& gm) {
    for (auto v : {awkward, not_utf8, std::string_view("/chat/{room}")}) {
        gm.connections.with({v}).inc();
        gm.connections_total.with({v}).inc();
        gm.handshake_failures.with({v}).inc();
        gm.messages_received.with({v}).inc(3);
        gm.messages_sent.with({v}).inc(2);
        gm.backend_requests.with({v, "ok"}).inc();
        gm.backend_request_duration.with({v}).observe(0.0042);
        gm.auth_requests.with({v}).inc();
        gm.config_reloads.with({v}).inc();
        gm.messages_dropped.with({v}).inc();
    }
    gm.bytes_received.inc(1 << 20);
    gm.bytes_sent.inc(12345);
    gm.heartbeat_timeouts.inc();
    gm.slow_consumer_closes.inc();
    gm.rate_limited.inc();
    gm.rooms.set(2);
    gm.room_publishes.inc();
    gm.ping_rtt.observe(0.00003);
    gm.ping_rtt.observe(60);
    gm.cluster_connected.set(1);
}

}  // namespace

TEST(promtool, full_scrape_passes_promtool_check_metrics) {
    std::string promtool = find_in_path("promtool");
    ASSERT_FALSE(promtool.empty())
        << "promtool not found in PATH; install Debian package `prometheus` "
           "(apt-get install --no-install-recommends prometheus)";
    gateway_metrics gm;
    count_everything(gm);
    std::string text = gm.scrape();

    auto r = check_metrics(promtool, text);
    EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- scrape ---\n" << text;
    EXPECT_EQ(r.output, "") << "\n--- scrape ---\n" << text;
}

TEST(promtool, fresh_scrape_passes_promtool_check_metrics) {
    std::string promtool = find_in_path("promtool");
    ASSERT_FALSE(promtool.empty()) << "promtool not found in PATH";
    gateway_metrics gm;

    auto r = check_metrics(promtool, gm.scrape());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, "");
}

// Guards the two tests above against passing vacuously (a promtool that checks nothing, or
// output we fail to capture).
TEST(promtool, promtool_reports_a_known_bad_exposition) {
    std::string promtool = find_in_path("promtool");
    ASSERT_FALSE(promtool.empty()) << "promtool not found in PATH";

    auto r = check_metrics(promtool, "# HELP c C.\n# TYPE c counter\nc 1\n");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("_total"), std::string::npos) << r.output;
}

TEST(promtool, scrape_contains_every_spec_metric_and_the_process_metrics) {
    gateway_metrics gm;
    count_everything(gm);
    std::string text = gm.scrape();
    for (const char* name :
         {"wsgate_connections gauge", "wsgate_connections_total counter",
          "wsgate_handshake_failures_total counter", "wsgate_messages_received_total counter",
          "wsgate_messages_sent_total counter", "wsgate_bytes_received_total counter",
          "wsgate_bytes_sent_total counter", "wsgate_backend_requests_total counter",
          "wsgate_backend_request_duration_seconds histogram",
          "wsgate_auth_requests_total counter", "wsgate_heartbeat_timeouts_total counter",
          "wsgate_slow_consumer_closes_total counter", "wsgate_rate_limited_total counter",
          "wsgate_rooms gauge", "wsgate_room_publishes_total counter",
          "wsgate_config_reloads_total counter", "wsgate_ping_rtt_seconds histogram",
          "wsgate_messages_dropped_total counter", "wsgate_cluster_connected gauge",
          "process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
          "process_virtual_memory_bytes gauge", "process_open_fds gauge", "process_max_fds gauge",
          "process_start_time_seconds gauge"})
        EXPECT_NE(text.find(std::string("# TYPE ") + name + '\n'), std::string::npos) << name;
}

TEST(promtool, every_metric_in_the_scrape_is_documented) {
    std::ifstream in(docs_path);
    ASSERT_TRUE(in) << "cannot read " << docs_path;
    std::stringstream docs;
    docs << in.rdbuf();
    gateway_metrics gm;
    std::istringstream scrape(gm.scrape());
    for (std::string line; std::getline(scrape, line);) {
        if (!line.starts_with("# TYPE ")) continue;
        std::string name = line.substr(7, line.find(' ', 7) - 7);
        EXPECT_NE(docs.str().find('`' + name + '`'), std::string::npos)
            << name << " is missing from " << docs_path;
    }
}
