// Tests for config/config_diff: what a reload from one file to another changes.
#include "config/config_diff.h"

#include <gtest/gtest.h>

#include "loader/loader.h"

using namespace wsgated;

namespace {

config::config_ptr load(const std::string& yaml) {
    auto r = config::load_string(yaml, "t.yaml");
    for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
    return r.config;
}

// "changed server.workers", one per change, in diff order.
std::vector<std::string> changes(const std::string& a, const std::string& b) {
    std::vector<std::string> out;
    for (const auto& ch : config::diff(*load(a), *load(b))) out.push_back(std::string(config::kind_name(ch.what)) + " " + ch.key);
    return out;
}

const std::string base = R"(server:
  workers: 2
  listen:
    - address: "127.0.0.1:0"
    - address: "127.0.0.1:0"
  limits: {send_queue: 1MiB}
  heartbeat: {interval: 30s, timeout: 10s}
admin: {listen: "127.0.0.1:9090", token: a}
backends:
  app: {type: http, url: "http://127.0.0.1:8000/ws"}
routes:
  - {path: /echo, backend: echo}
  - {path: /app, backend: app}
)";

std::string with(std::string from, const std::string& what, const std::string& by) {
    auto at = from.find(what);
    EXPECT_NE(at, std::string::npos) << what;
    return from.replace(at, what.size(), by);
}

}  // namespace

TEST(config_diff, the_same_file_changes_nothing_and_moving_keys_changes_nothing) {
    EXPECT_TRUE(changes(base, base).empty());
    // The same values on other lines (marks differ): still nothing.
    EXPECT_TRUE(changes(base, "\n\n" + with(base, "limits: {send_queue: 1MiB}", "limits:\n    send_queue: 1MiB")).empty());
}

TEST(config_diff, names_each_changed_key) {
    auto next = with(with(with(base, "send_queue: 1MiB", "send_queue: 2MiB"), "interval: 30s", "interval: 5s"), "token: a", "token: b");
    EXPECT_EQ(changes(base, next), (std::vector<std::string>{"changed server.limits.send_queue",
                                                             "changed server.heartbeat.interval", "changed admin.token"}));
}

TEST(config_diff, listeners_routes_and_backends_are_known_by_name) {
    auto next = with(with(base, "    - address: \"127.0.0.1:0\"\n  limits", "    - address: \"127.0.0.1:0\"\n    - address: \"127.0.0.1:7001\"\n  limits"),
                     "  - {path: /app, backend: app}\n", "  - {path: /app, backend: echo}\n  - {path: /new, backend: echo}\n");
    next = with(next, "http://127.0.0.1:8000/ws", "http://127.0.0.1:8001/ws");
    EXPECT_EQ(changes(base, next), (std::vector<std::string>{"added server.listen[127.0.0.1:7001]", "changed backends.app",
                                                             "changed routes[/app]", "added routes[/new]"}));
    // The second of two identical addresses is its own entry.
    auto one = with(base, "    - address: \"127.0.0.1:0\"\n    - address: \"127.0.0.1:0\"\n", "    - address: \"127.0.0.1:0\"\n");
    EXPECT_EQ(changes(base, one), (std::vector<std::string>{"removed server.listen[127.0.0.1:0#2]"}));
}

TEST(config_diff, workers_and_cluster_need_a_restart_the_rest_does_not) {
    EXPECT_TRUE(config::needs_restart("server.workers"));
    EXPECT_TRUE(config::needs_restart("cluster.redis"));
    for (const char* k : {"server.log.level", "server.log.format", "admin.token", "admin.listen", "admin.control_listen",
                          "server.listen[127.0.0.1:0]", "routes[/a]", "backends.app", "server.limits.send_queue"})
        EXPECT_FALSE(config::needs_restart(k)) << k;
}

TEST(config_diff, a_backend_is_the_same_with_the_same_keys_whatever_the_limits) {
    auto a = load(base);
    const auto& app = a->backends.at("app");
    auto c = load(with(base, "send_queue: 1MiB", "send_queue: 2MiB"));
    EXPECT_TRUE(config::same_backend(app, c->backends.at("app"))) << "a send_queue change moves no connection";
    auto d = load(with(base, "http://127.0.0.1:8000/ws", "unix:/run/app.sock:/ws"));
    EXPECT_FALSE(config::same_backend(app, d->backends.at("app")));
}

TEST(config_diff, a_new_route_order_is_a_change) {
    auto swapped = with(base, "  - {path: /echo, backend: echo}\n  - {path: /app, backend: app}\n",
                        "  - {path: /app, backend: app}\n  - {path: /echo, backend: echo}\n");
    EXPECT_EQ(changes(base, swapped), (std::vector<std::string>{"changed routes (order)"}));
}
