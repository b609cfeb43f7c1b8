// Tests for cluster/shard_map: CLUSTER SHARDS replies as Redis 7 sends them (RESP2), and the
// MOVED / ASK errors.
#include "cluster/shard_map.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace wsgated::cluster;

namespace {

std::string bulk(std::string_view s) { return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n"; }
std::string integer(long long v) { return ":" + std::to_string(v) + "\r\n"; }
std::string array(const std::vector<std::string>& items) {
    std::string out = "*" + std::to_string(items.size()) + "\r\n";
    for (const auto& i : items) out += i;
    return out;
}

std::string node(std::string_view ip, long long port, std::string_view role, std::string_view health = "online",
                 std::string_view endpoint = "", long long tls_port = 0) {
    std::vector<std::string> f{bulk("id"), bulk("0123456789abcdef"), bulk("port"), integer(port)};
    if (tls_port) f.insert(f.end(), {bulk("tls-port"), integer(tls_port)});
    f.insert(f.end(), {bulk("ip"), bulk(ip), bulk("endpoint"), bulk(endpoint.empty() ? ip : endpoint), bulk("role"),
                       bulk(role), bulk("replication-offset"), integer(42), bulk("health"), bulk(health)});
    return array(f);
}

std::string shard(std::vector<std::pair<long long, long long>> ranges, std::vector<std::string> nodes) {
    std::vector<std::string> slots;
    for (auto [a, b] : ranges) slots.insert(slots.end(), {integer(a), integer(b)});
    return array({bulk("slots"), array(slots), bulk("nodes"), array(nodes)});
}

reply_ptr parse(const std::string& resp) {
    resp_reader reader;
    EXPECT_TRUE(reader.feed(resp.data(), resp.size()));
    auto r = reader.next();
    EXPECT_TRUE(r);
    return r;
}

}  // namespace

TEST(shard_map, three_shards_with_replicas_map_every_slot_to_its_master) {
    auto r = parse(array({
        shard({{10923, 16383}}, {node("127.0.0.1", 7003, "master"), node("127.0.0.1", 7006, "replica")}),
        shard({{0, 5460}}, {node("127.0.0.1", 7004, "replica"), node("127.0.0.1", 7001, "master")}),
        shard({{5461, 10000}, {10001, 10922}}, {node("127.0.0.1", 7002, "master")}),
    }));
    std::string why;
    auto map = parse_cluster_shards(*r, false, why);
    ASSERT_TRUE(map) << why;
    ASSERT_EQ(map->masters.size(), 3u);
    // In address order, whatever order Redis listed the shards in.
    EXPECT_EQ(map->masters[0].text(), "127.0.0.1:7001");
    EXPECT_EQ(map->masters[1].text(), "127.0.0.1:7002");
    EXPECT_EQ(map->masters[2].text(), "127.0.0.1:7003");
    EXPECT_EQ(map->unserved(), 0u);
    EXPECT_EQ(map->owner[0], 0);
    EXPECT_EQ(map->owner[5460], 0);
    EXPECT_EQ(map->owner[5461], 1);
    EXPECT_EQ(map->owner[10922], 1);
    EXPECT_EQ(map->owner[16383], 2);
    EXPECT_EQ(map->owner[key_slot("foo")], 2);  // 12182
}

TEST(shard_map, a_failed_master_leaves_its_slots_unserved_and_tls_uses_the_tls_port) {
    auto r = parse(array({
        shard({{0, 8191}}, {node("10.0.0.1", 6379, "master", "failed", "", 6380)}),
        shard({{8192, 16383}}, {node("10.0.0.2", 6379, "master", "online", "redis-b.internal", 6380)}),
    }));
    std::string why;
    auto map = parse_cluster_shards(*r, true, why);
    ASSERT_TRUE(map) << why;
    ASSERT_EQ(map->masters.size(), 1u);
    EXPECT_EQ(map->masters[0].text(), "redis-b.internal:6380");  // the announced endpoint, its TLS port
    EXPECT_EQ(map->unserved(), 8192u);
    EXPECT_EQ(map->owner[0], no_shard);
}

TEST(shard_map, what_is_no_shard_list_is_refused_with_why) {
    std::string why;
    auto err = parse("-ERR This instance has cluster support disabled\r\n");
    EXPECT_FALSE(parse_cluster_shards(*err, false, why));
    EXPECT_EQ(why, "ERR This instance has cluster support disabled");
    auto bad_range = parse(array({shard({{0, 16384}}, {node("127.0.0.1", 7001, "master")})}));
    EXPECT_FALSE(parse_cluster_shards(*bad_range, false, why));
    EXPECT_EQ(why, "a slot range outside 0-16383");
    auto no_master = parse(array({shard({{0, 16383}}, {node("127.0.0.1", 7001, "replica")})}));
    EXPECT_FALSE(parse_cluster_shards(*no_master, false, why));
    EXPECT_EQ(why, "no shard has a serving master");
}

TEST(shard_map, redirects) {
    auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
    ASSERT_TRUE(moved);
    EXPECT_FALSE(moved->ask);
    EXPECT_EQ(moved->slot, 3999);
    EXPECT_EQ(moved->to.text(), "127.0.0.1:6381");
    auto ask = parse_redirect("ASK 12182 [::1]:7002");
    ASSERT_TRUE(ask);
    EXPECT_TRUE(ask->ask);
    EXPECT_EQ(ask->to.host, "::1");
    EXPECT_EQ(ask->to.text(), "[::1]:7002");
    auto same_host = parse_redirect("MOVED 1 :7003");
    ASSERT_TRUE(same_host);
    EXPECT_TRUE(same_host->to.host.empty());
    EXPECT_FALSE(parse_redirect("MOVED 16384 127.0.0.1:1"));
    EXPECT_FALSE(parse_redirect("MOVED x 127.0.0.1:1"));
    EXPECT_FALSE(parse_redirect("MOVED 1 127.0.0.1:0"));
    EXPECT_FALSE(parse_redirect("CLUSTERDOWN The cluster is down"));
    EXPECT_FALSE(parse_redirect("ERR unknown"));
}
