// redis_shards: the slot map of a Redis Cluster — read, applied, and the links per master that
// follow it (see redis_shards.h).
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "cluster/redis_shards.h"

namespace wsgated::cluster {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto refresh_every = 10s;    // a map read at least this often
constexpr auto refresh_at_most = 1s;   // and at most this often, however many MOVEDs say so

}  // namespace

redis_shards::shard_ptr redis_shards::make_shard(const shard_address& a, const redis_endpoint* exact) {
    auto s = std::make_shared<shard>();
    s->address = a;
    redis_endpoint e = exact ? *exact : seeds_.front();
    if (!exact) {
        e.target.host = a.host;
        e.target.port = std::to_string(a.port);
    }
    std::weak_ptr<shard> weak = s;
    redis_link::handlers cmd{[this] { on_cmd_up(); },
                             [this](error_code ec, std::chrono::milliseconds retry) { on_link_down("command", ec, retry); },
                             nullptr};
    redis_link::handlers sub{[this, weak] {
                                 if (auto sp = weak.lock()) on_sub_up(sp);
                             },
                             [this, weak](error_code ec, std::chrono::milliseconds retry) {
                                 if (auto sp = weak.lock()) sp->held = false;
                                 on_link_down("subscriber", ec, retry);
                             },
                             [this, weak](const redisReply& r) {
                                 if (auto sp = weak.lock()) on_sub_push(sp, r);
                             }};
    s->cmd = redis_link::create(ioc_, e, policy_, false, std::move(cmd));
    s->sub = redis_link::create(ioc_, e, policy_, true, std::move(sub));
    s->cmd->start();
    s->sub->start();
    return s;
}

redis_shards::shard* redis_shards::find(const shard_address& a) const {
    for (const auto& s : shards_)
        if (s->address == a) return s.get();
    return nullptr;
}

redis_shards::shard* redis_shards::owner_of(std::string_view key) const {
    if (mode_ == mode::single) return shards_.front().get();
    if (!sharded()) return nullptr;
    std::uint16_t i = owner_[key_slot(key)];
    return i < shards_.size() ? shards_[i].get() : nullptr;
}

// Coalesced: one read at most a second, whatever asked for it.
void redis_shards::refresh_soon() {
    if (!sharded() || stopped_ || refresh_armed_) return;
    if (refreshing_) {
        refresh_again_ = true;
        return;
    }
    refresh_armed_ = true;
    auto wait = last_refresh_ + refresh_at_most - std::chrono::steady_clock::now();
    refresh_timer_.expires_after(std::max<std::chrono::steady_clock::duration>(wait, 0s));
    refresh_timer_.async_wait([this](error_code ec) {
        refresh_armed_ = false;
        if (!ec) refresh();
    });
}

// CLUSTER SHARDS on any command link that is up; with none up, on a link to the seeds, as at
// the start.
void redis_shards::refresh() {
    if (stopped_) return;
    last_refresh_ = std::chrono::steady_clock::now();
    redis_link* via = nullptr;
    for (auto& s : shards_)
        if (s->cmd->up()) {
            via = s->cmd.get();
            break;
        }
    if (!via) {  // every master unreachable (moved, restarted elsewhere): ask the seeds again
        if (!seed_link_) start_discovery();
        return arm_periodic();
    }
    {
        refreshing_ = true;
        bool tls = seeds_.front().tls != nullptr;
        via->command({"CLUSTER", "SHARDS"}, [this, tls](const redisReply* r) {
            refreshing_ = false;
            std::string why;
            if (r && !stopped_) {
                if (auto map = parse_cluster_shards(*r, tls, why)) apply(std::move(*map));
                else spdlog::warn("cluster: CLUSTER SHARDS: {}", why);
            }
            if (std::exchange(refresh_again_, false)) refresh_soon();
        });
    }
    arm_periodic();
}

// And again in a while, asked for or not.
void redis_shards::arm_periodic() {
    periodic_timer_.expires_after(refresh_every);
    periodic_timer_.async_wait([this](error_code ec) {
        if (!ec) refresh();
    });
}

// The links follow the map: a master seen before keeps its links (and their subscriptions), a
// new one gets links, one that is no longer a master loses them; then every channel is made to
// be subscribed on its slot's master only.
void redis_shards::apply(shard_map map) {
    std::vector<shard_ptr> next;
    bool masters_changed = map.masters.size() != shards_.size();
    for (const auto& a : map.masters) {
        auto it = std::find_if(shards_.begin(), shards_.end(), [&](const shard_ptr& s) { return s->address == a; });
        if (it != shards_.end()) {
            next.push_back(*it);
            shards_.erase(it);
        } else {
            next.push_back(make_shard(a));
            masters_changed = true;
        }
    }
    for (auto& gone : shards_) {  // no longer masters: their waiting commands answer nullptr (503)
        gone->cmd->stop();
        gone->sub->stop();
    }
    shards_ = std::move(next);
    bool changed = masters_changed || map.owner != owner_;
    std::size_t unserved = map.unserved();
    owner_ = std::move(map.owner);
    reconcile();  // also unchanged: a sunsubscribe may have come after the map moved
    if (changed)
        spdlog::info("cluster: the Redis Cluster's masters: {}{}", text(),
                     unserved ? fmt::format(", {} slots served by no master", unserved) : std::string());
    if (masters_changed && handlers_.on_reshaped) handlers_.on_reshaped();
    note_up();
}

}  // namespace wsgated::cluster
