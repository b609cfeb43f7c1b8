// redis_shards: discovery, the links' events and the commands (see redis_shards.h). The slot
// map is in redis_shards_map.cpp, the subscriptions in redis_shards_subscriptions.cpp.
#include "cluster/redis_shards.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace wsgated::cluster {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

void ignore(const redisReply*) {}

}  // namespace

redis_shards::redis_shards(asio::io_context& ioc, std::vector<redis_endpoint> seeds, net::backoff_policy policy,
                           handlers h, counters c)
    : ioc_(ioc), seeds_(std::move(seeds)), policy_(policy), handlers_(std::move(h)), counters_(c),
      refresh_timer_(ioc), periodic_timer_(ioc), seed_timer_(ioc) {}

redis_shards::~redis_shards() { stop(); }

void redis_shards::start() { start_discovery(); }

void redis_shards::stop() {
    if (stopped_) return;
    stopped_ = true;
    refresh_timer_.cancel();
    periodic_timer_.cancel();
    seed_timer_.cancel();
    if (seed_link_) seed_link_->stop();
    for (auto& s : shards_) {
        s->cmd->stop();
        s->sub->stop();
    }
}

// One link to a seed, each in turn while they fail: the first that answers CLUSTER SHARDS says
// what Redis is.
void redis_shards::start_discovery() {
    if (stopped_) return;
    const redis_endpoint& seed = seeds_[seed_ % seeds_.size()];
    redis_link::handlers h;
    std::size_t which = seed_ % seeds_.size();
    h.on_up = [this, which] {
        seed_link_->command({"CLUSTER", "SHARDS"}, [this, which](const redisReply* r) { on_discovered(r, which); });
    };
    h.on_down = [this](error_code ec, std::chrono::milliseconds retry) {
        if (handlers_.on_down) handlers_.on_down("command", ec, retry);
        if (seeds_.size() < 2 || mode_ == mode::single) return;  // one seed: its link retries itself
        seed_link_->stop();  // the next seed, after the same wait
        ++seed_;
        seed_timer_.expires_after(retry);
        seed_timer_.async_wait([this](error_code e) {
            if (!e) start_discovery();
        });
    };
    seed_link_ = redis_link::create(ioc_, seed, policy_, false, std::move(h));
    seed_link_->start();
}

void redis_shards::on_discovered(const redisReply* r, std::size_t seed) {
    if (!r || stopped_ || mode_ == mode::single) return;  // lost: asked again on the next connect
    std::string why;
    if (auto map = parse_cluster_shards(*r, seeds_[seed].tls != nullptr, why)) {
        if (mode_ == mode::discovering) {
            mode_ = mode::sharded;
            owner_.assign(slot_count, no_shard);
            spdlog::info("cluster: {} is a Redis Cluster: sharded pub/sub over its masters", seeds_[seed].target.text());
        }
        asio::post(ioc_, [link = seed_link_] { link->stop(); });  // not from inside its own reply
        seed_link_.reset();
        last_refresh_ = std::chrono::steady_clock::now();
        apply(std::move(*map));
        arm_periodic();
        return;
    }
    if (mode_ == mode::sharded) {  // a seed asked again when no master answered
        spdlog::warn("cluster: seed {} answered CLUSTER SHARDS with '{}'", seeds_[seed].target.text(), why);
        return;
    }
    // "ERR This instance has cluster support disabled", or an ACL that refuses CLUSTER: one server.
    if (seeds_.size() > 1)
        spdlog::error("cluster: cluster.redis lists {} addresses, but {} answered CLUSTER SHARDS with '{}': "
                      "using it as the only Redis", seeds_.size(), seeds_[seed].target.text(), why);
    else if (why.find("cluster support disabled") == std::string::npos)
        spdlog::warn("cluster: CLUSTER SHARDS answered '{}': using {} as a single Redis", why,
                     seeds_[seed].target.text());
    become_single(seed);
}

// One server: a command link and a subscriber link to the seed that answered (the discovery
// link goes: its handlers are discovery's).
void redis_shards::become_single(std::size_t seed) {
    mode_ = mode::single;
    asio::post(ioc_, [link = seed_link_] { link->stop(); });
    seed_link_.reset();
    shards_.push_back(make_shard(shard_address{}, &seeds_[seed]));
}

// --------------------------------------------------------------------------------------------
// The links' events.

void redis_shards::on_cmd_up() {
    note_up();
    // Any command link back: the map may have changed while it was away.
    if (sharded()) refresh_soon();
}

// on_commands_up once each time every command link (and slot) is served again, whether a link
// came back or the map changed: the share is rewritten then (Redis may have lost it).
void redis_shards::note_up() {
    bool now = up();
    if (now && !was_up_ && handlers_.on_commands_up) {
        was_up_ = true;
        handlers_.on_commands_up();
    }
    if (!now) was_up_ = false;
}

void redis_shards::on_link_down(const char* which, error_code ec, std::chrono::milliseconds retry) {
    if (stopped_) return;
    note_up();
    if (handlers_.on_down) handlers_.on_down(which, ec, retry);
    if (sharded()) refresh_soon();  // a failover moves the master elsewhere
}

bool redis_shards::up() const {
    if (shards_.empty() || mode_ == mode::discovering) return false;
    for (const auto& s : shards_)
        if (!s->cmd->up()) return false;
    if (sharded())
        for (auto o : owner_)
            if (o == no_shard) return false;
    return true;
}

bool redis_shards::subscriptions_up() const {
    if (shards_.empty() || mode_ == mode::discovering) return false;
    for (const auto& s : shards_)
        if (!s->sub->up() || !s->held) return false;
    return true;
}

std::string redis_shards::refusal() const {
    if (seed_link_ && !seed_link_->refusal().empty()) return seed_link_->refusal();
    for (const auto& s : shards_) {
        if (!s->cmd->refusal().empty()) return s->cmd->refusal();
        if (!s->sub->refusal().empty()) return s->sub->refusal();
    }
    return {};
}

std::string redis_shards::text() const {
    if (!sharded()) return seeds_[seed_ % seeds_.size()].target.text();
    std::string out;
    for (std::size_t i = 0; i < shards_.size(); ++i) out += (i ? ", " : "") + shards_[i]->address.text();
    return out + " (Redis Cluster)";
}

void redis_shards::drop_subscribers(error_code ec) {
    for (auto& s : shards_) s->sub->drop(ec);
}

void redis_shards::drop_all(error_code ec) {
    if (seed_link_) seed_link_->drop(ec);
    for (auto& s : shards_) {
        s->cmd->drop(ec);
        s->sub->drop(ec);
    }
}

// --------------------------------------------------------------------------------------------
// Commands.

void redis_shards::command(std::span<const std::string_view> args, reply_fn done) {
    if (mode_ == mode::single) return shards_.front()->cmd->command(args, std::move(done));
    if (mode_ != mode::sharded || args.size() < 2) {
        asio::post(ioc_, [done = std::move(done)] { done(nullptr); });
        return;
    }
    // Kept until answered: a MOVED sends the same command again elsewhere.
    auto owned = std::make_shared<std::vector<std::string>>(args.begin(), args.end());
    send_routed(owned, key_slot(args[1]), 0, std::move(done));
}

void redis_shards::publish(std::string_view channel, std::string_view payload, reply_fn done) {
    command({sharded() ? "SPUBLISH" : "PUBLISH", channel, payload}, std::move(done));
}

void redis_shards::barrier(std::function<void()> done) {
    auto waiting = std::make_shared<std::size_t>(shards_.size());
    if (shards_.empty()) return asio::post(ioc_, std::move(done));
    auto each = [waiting, done = std::move(done)](const redisReply*) {
        if (--*waiting == 0) done();
    };
    for (auto& s : shards_) s->cmd->command({"PING"}, each);  // replies come in order on each link
}

void redis_shards::send_routed(std::shared_ptr<std::vector<std::string>> args, std::uint16_t slot, int hops,
                               reply_fn done) {
    std::uint16_t i = owner_.empty() ? no_shard : owner_[slot];
    if (i == no_shard || i >= shards_.size() || !shards_[i]->cmd->up()) {
        asio::post(ioc_, [done = std::move(done)] { done(nullptr); });
        return;
    }
    shard& s = *shards_[i];
    std::vector<std::string_view> views(args->begin(), args->end());
    s.cmd->command(views, [this, args, from = s.address, hops, done = std::move(done)](const redisReply* r) mutable {
        on_routed_reply(r, args, from, hops, done);
    });
}

// MOVED: the slot's master is another; note it, refresh the map, send it there. ASK: a slot
// being migrated; this one key is already there: ASKING + the command, once, map unchanged.
void redis_shards::on_routed_reply(const redisReply* r, const std::shared_ptr<std::vector<std::string>>& args,
                                   const shard_address& from, int hops, reply_fn& done) {
    std::optional<redirect> to;
    if (r && r->type == REDIS_REPLY_ERROR && !stopped_) to = parse_redirect(text_of(r));
    if (!to || hops >= 3) return done(r);
    if (to->to.host.empty()) to->to.host = from.host;
    (to->ask ? counters_.ask : counters_.moved)->inc();
    shard* target = find(to->to);
    refresh_soon();
    if (!target || !target->cmd->up()) return done(nullptr);  // a master we have no link to yet: 503 meanwhile
    if (to->ask) {
        target->cmd->command({"ASKING"}, ignore);
        std::vector<std::string_view> views(args->begin(), args->end());
        target->cmd->command(views, std::move(done));
        return;
    }
    for (std::size_t i = 0; i < shards_.size(); ++i)
        if (shards_[i].get() == target) owner_[to->slot] = static_cast<std::uint16_t>(i);
    send_routed(args, to->slot, hops + 1, std::move(done));
}

}  // namespace wsgated::cluster
