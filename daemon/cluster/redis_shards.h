// redis_shards: the Redis a cluster bus talks to — one server, or the shards of a Redis Cluster
// — behind one interface: commands routed by their key, publishes, and the set of channels this
// node must hear, kept subscribed across reconnects and slot moves.
//
// Which it is, is asked first (CLUSTER SHARDS on a link to a seed of `cluster.redis`, trying
// each in turn): "cluster support disabled" → one server: a command link and a subscriber link
// to it, PUBLISH / SUBSCRIBE, exactly as before. A shard list → a Redis Cluster: per master a
// command link and a subscriber link; a command goes to the master of its key's slot, a publish
// is SPUBLISH to the master of its channel's slot (sharded pub/sub: a room's messages touch one
// shard, not the whole cluster bus), a subscription is SSUBSCRIBE there. wsgated's names carry a
// hash tag per room / node / user (cluster/channels.h), so a room's channel and its presence
// keys live on one shard.
//
// Slots move (resharding, a failover): a MOVED answer re-sends the command to the master it
// names (at most 3 hops) and refreshes the map, an ASK sends it there once behind ASKING, and a
// "sunsubscribe" that Redis pushes when a channel's slot left its master subscribes it again
// where the new map puts it. The map is also read again every 10 s and after any link is lost.
// Each hop is counted in wsgate_cluster_redirects_total{kind}.
//
// Ordering: on one server every command of this node leaves on one link, in order. Across
// shards only the commands for one slot are ordered with each other (a room's publish and its
// presence keys are; two rooms' are not).
//
// Owned by cluster_bus; on the control thread only.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cluster/redis_link.h"
#include "cluster/shard_map.h"
#include "metrics/registry.h"

namespace wsgated::cluster {

class redis_shards {
public:
    using reply_fn = redis_link::reply_fn;
    using down_fn = std::function<void(const char* which, boost::system::error_code, std::chrono::milliseconds)>;
    struct handlers {
        std::function<void()> on_commands_up;  // every command link is up (again): rewrite the share
        std::function<void()> on_subscriber_up;  // a subscriber link came up: its subscriptions are asked again
        std::function<void()> on_subscribed;   // every subscriber link's subscriptions hold
        std::function<void()> on_reshaped;     // the shards changed: links come and go
        down_fn on_down;                       // a link was lost ("command" / "subscriber")
        std::function<void(const redisReply&)> on_push;  // messages, and refusals (an ACL's NOPERM)
    };
    struct counters {
        metrics::counter* moved = nullptr;
        metrics::counter* ask = nullptr;
    };

    redis_shards(boost::asio::io_context& ioc, std::vector<redis_endpoint> seeds, net::backoff_policy policy,
                 handlers h, counters c);
    ~redis_shards();
    void start();
    void stop();

    bool sharded() const { return mode_ == mode::sharded; }
    // Every command link up (and, on a cluster, every slot served).
    bool up() const;
    // Every subscriber link up, with the PING behind its subscriptions answered.
    bool subscriptions_up() const;

    void command(std::span<const std::string_view> args, reply_fn done);
    void command(std::initializer_list<std::string_view> args, reply_fn done) {
        command(std::span<const std::string_view>(args.begin(), args.size()), std::move(done));
    }
    // PUBLISH, or SPUBLISH on a cluster; the reply is the number of subscribers that heard it
    // (on a cluster: on the channel's master, where every node subscribes).
    void publish(std::string_view channel, std::string_view payload, reply_fn done);
    // `done` once every command link answered what was queued before (or is gone).
    void barrier(std::function<void()> done);

    // The channels this node hears, kept subscribed until unsubscribed.
    void subscribe(const std::string& channel);
    void unsubscribe(const std::string& channel);

    // Drop and reconnect: the subscriber links, or every link.
    void drop_subscribers(boost::system::error_code ec);
    void drop_all(boost::system::error_code ec);

    // What Redis answered to the last refused AUTH or SELECT on any link, for the log.
    std::string refusal() const;
    // For logs: the seeds, or the masters of the cluster.
    std::string text() const;

private:
    enum class mode { discovering, single, sharded };
    struct shard {
        shard_address address;
        std::shared_ptr<redis_link> cmd, sub;
        bool held = false;                 // the sub link's PING behind its subscriptions came back
        std::set<std::string> subscribed;  // channels asked for on the sub link's current connection
    };
    using shard_ptr = std::shared_ptr<shard>;

    // Discovery (redis_shards.cpp).
    void start_discovery();
    void on_discovered(const redisReply* r, std::size_t seed);
    void become_single(std::size_t seed);
    // The map (redis_shards_map.cpp).
    void refresh_soon();
    void refresh();
    void arm_periodic();
    void apply(shard_map map);
    shard_ptr make_shard(const shard_address& a, const redis_endpoint* exact = nullptr);
    shard* owner_of(std::string_view key) const;
    shard* find(const shard_address& a) const;
    void send_routed(std::shared_ptr<std::vector<std::string>> args, std::uint16_t slot, int hops, reply_fn done);
    void on_routed_reply(const redisReply* r, const std::shared_ptr<std::vector<std::string>>& args,
                         const shard_address& from, int hops, reply_fn& done);
    // Subscriptions (redis_shards_subscriptions.cpp).
    void on_sub_up(const shard_ptr& s);
    void on_sub_push(const shard_ptr& s, const redisReply& r);
    void subscribe_on(shard& s, const std::string& channel);
    void reconcile();
    void on_cmd_up();
    void note_up();
    void on_link_down(const char* which, boost::system::error_code ec, std::chrono::milliseconds retry);

    boost::asio::io_context& ioc_;
    std::vector<redis_endpoint> seeds_;
    net::backoff_policy policy_;
    handlers handlers_;
    counters counters_;
    mode mode_ = mode::discovering;
    std::shared_ptr<redis_link> seed_link_;  // discovery, and map reads when no shard link is up
    std::size_t seed_ = 0;                   // which of seeds_ seed_link_ reaches
    std::vector<shard_ptr> shards_;          // single: one; sharded: one per master
    std::vector<std::uint16_t> owner_;       // sharded: slot → index in shards_
    std::set<std::string> channels_;         // what this node must hear
    std::set<std::string> leaving_;          // asked to unsubscribe: their sunsubscribe is ours
    boost::asio::steady_timer refresh_timer_, periodic_timer_, seed_timer_;
    bool refreshing_ = false, refresh_again_ = false, refresh_armed_ = false;
    std::chrono::steady_clock::time_point last_refresh_{};
    bool was_up_ = false;  // up() when last looked at (note_up)
    bool stopped_ = false;
};

}  // namespace wsgated::cluster
