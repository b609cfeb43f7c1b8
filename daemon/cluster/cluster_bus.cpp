// cluster_bus: the links, the timers and the subscriptions (see cluster_bus.h). The calls out
// are in cluster_calls.cpp, what comes in is in cluster_inbound.cpp. Everything here runs on
// the control thread, except the hub::bus membership calls, which post to it.
#include "cluster/cluster_bus.h"

#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace wsgated::cluster {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto probe_every = 1s;
constexpr auto probe_fresh = 3s;  // connected() while the last probe came back within this
// In sync, yet no probe back for this long: the path through Redis is wedged (a connection that
// died without a reset, a subscriber Redis stopped serving) although neither link saw an
// error. Both links are dropped and reconnected rather than left unready for good.
constexpr auto probe_stale = 6s;
constexpr auto sweep_every = 250ms;

net::backoff_policy redis_backoff() {
    net::backoff_policy p;
    p.initial = 100ms;
    p.max = 2s;  // a Redis that comes back is used again within about 2 s
    p.connect_timeout = 3s;  // also bounds TLS and AUTH/SELECT/PING (redis_link)
    p.reset_on_healthy = true;  // a Redis that accepts and then refuses is not retried at 100 ms
    return p;
}

}  // namespace

bus_settings settings_from(const config::cluster_config& c) {
    bus_settings s;
    redis_endpoint e;
    e.user = c.redis_user;
    e.password = c.redis_password;
    e.db = c.redis_db;
    if (c.redis_tls) {
        auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        tls->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                         asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
        boost::system::error_code ec;
        if (c.tls_ca_file.empty()) tls->set_default_verify_paths(ec);
        else tls->load_verify_file(c.tls_ca_file, ec);
        if (ec) spdlog::error("cluster: TLS CAs for Redis: {}", ec.message());
        e.tls = std::move(tls);
    }
    for (const auto& seed : c.redis_seeds) {
        e.target.host = seed.host;
        e.target.port = std::to_string(seed.port);
        s.seeds.push_back(e);
    }
    s.node_id = c.node_id;
    s.node_ttl = c.node_ttl;
    return s;
}

cluster_bus::cluster_bus(asio::io_context& control, hub::delivery& delivery, metrics::gateway_metrics& metrics,
                         bus_settings settings)
    : ioc_(control), delivery_(delivery), metrics_(metrics), settings_(std::move(settings)),
      names_(settings_.seeds.front().db), self_(delivery.node_tag()), self_channel_(names_.node(self_)),
      all_channel_(names_.all()), presence_(names_, self_, settings_.node_id, settings_.node_ttl),
      probe_timer_(control), refresh_timer_(control), sweep_timer_(control), leave_timer_(control), resubscribe_timer_(control),
      rewrite_timer_(control),
      messages_in_(&metrics.cluster_messages.with({"in"})), messages_out_(&metrics.cluster_messages.with({"out"})) {}

cluster_bus::~cluster_bus() = default;

void cluster_bus::start() {
    redis_shards::handlers h;
    h.on_commands_up = [this] { on_command_up(); };
    h.on_subscriber_up = [this] { on_subscriber_up(); };
    h.on_subscribed = [this] { on_subscribed(); };
    h.on_reshaped = [this] { on_reshaped(); };
    h.on_down = [this](const char* which, boost::system::error_code ec, std::chrono::milliseconds retry) {
        on_down(which, ec, retry);
    };
    h.on_push = [this](const redisReply& r) { on_push(r); };
    redis_ = std::make_unique<redis_shards>(
        ioc_, settings_.seeds, redis_backoff(), std::move(h),
        redis_shards::counters{&metrics_.cluster_redirects.with({"moved"}), &metrics_.cluster_redirects.with({"ask"})});
    presence_.on_write_error([this](std::string_view why) { rewrite_soon(why); });
    redis_->subscribe(self_channel_);
    redis_->subscribe(all_channel_);
    redis_->start();
    metrics_.cluster_nodes.set(1);
    tick_probe();
    tick_refresh();
    tick_sweep();
    spdlog::info("cluster: node {} (tag {}) joining through {}", settings_.node_id, self_, redis_->text());
}

// Posted, so that it runs after the exits and leaves the workers posted before they stopped.
void cluster_bus::leave(std::function<void()> done) {
    auto finish = std::make_shared<std::function<void()>>([this, done = std::move(done)]() mutable {
        if (!done) return;  // the deadline and the answer: whichever comes first
        auto then = std::exchange(done, nullptr);  // first: stop() fails the PING, which comes here again
        stop();
        then();
    });
    asio::post(ioc_, [this, finish] {
        if (stopped_ || !redis_->up()) return (*finish)();
        leave_timer_.expires_after(1s);
        leave_timer_.async_wait([finish](boost::system::error_code) { (*finish)(); });
        presence_.withdraw(*redis_, [finish] { (*finish)(); });
    });
}

void cluster_bus::stop() {
    if (stopped_) return;
    stopped_ = true;
    leave_timer_.cancel();
    resubscribe_timer_.cancel();
    rewrite_timer_.cancel();
    probe_timer_.cancel();
    refresh_timer_.cancel();
    sweep_timer_.cancel();
    for (auto& [_, t] : leaving_) t->cancel();
    leaving_.clear();
    if (redis_) redis_->stop();
    calls_.fail_all();
    connected_ = false;
    metrics_.cluster_connected.set(0);
}

void cluster_bus::on_command_up() {
    spdlog::info("cluster: command link{} to Redis {} up", redis_->sharded() ? "s" : "", redis_->text());
    presence_.rewrite(*redis_);  // before the liveness key: a node in sync has its share written
    on_subscribed_or_up();
}

// A new subscriber connection: redis_shards asks for its channels again, then a PING whose
// answer (on_subscribed) says they hold.
void cluster_bus::on_subscriber_up() {
    spdlog::info("cluster: subscriber link to Redis {} up", redis_->text());
    subscriptions_held_ = false;
    subscription_refused_ = false;
}

// A refused subscription (an ACL's NOPERM) means a channel this node needs is not heard: not in
// sync, so calls answer 503 and /readyz fails; the link starts over in 5 s (a fixed ACL then
// takes).
void cluster_bus::on_subscribed() {
    if (subscription_refused_) {
        spdlog::error("cluster: Redis refused a subscription this node needs: not in sync");
        return resubscribe_later();
    }
    subscriptions_held_ = true;
    on_subscribed_or_up();
}

// In sync once both links are up, the subscriptions hold and the share is written (queued on
// the command link before anything this node publishes next): calls may go, and the others
// learn it from the liveness key.
// Once a refusal is seen, the subscriber link starts over in 5 s: every subscription is asked
// again (a fixed ACL then takes); meanwhile the others answer 503 for what this node misses.
void cluster_bus::resubscribe_later() {
    if (resubscribe_pending_) return;
    resubscribe_pending_ = true;
    spdlog::warn("cluster: subscribing again in 5 s");
    resubscribe_timer_.expires_after(5s);
    resubscribe_timer_.async_wait([this](boost::system::error_code ec) {
        resubscribe_pending_ = false;
        if (!ec && !stopped_) redis_->drop_subscribers(boost::asio::error::access_denied);
    });
}

void cluster_bus::on_subscribed_or_up() {
    if (synced_ || !subscriptions_held_ || !redis_->up() || !redis_->subscriptions_up()) return;
    synced_ = true;
    synced_at_ = std::chrono::steady_clock::now();
    presence_.synced(synced_at_);
    presence_.write_alive(*redis_);
    presence_.refresh(*redis_);
    envelope hello{.kind = kind::hello, .origin = self_};
    publish_envelope(all_channel_, hello, [](const redisReply*) {});
    tick_probe();
}

void cluster_bus::on_down(const char* which, boost::system::error_code ec, std::chrono::milliseconds retry_in) {
    if (stopped_) return;
    metrics_.cluster_reconnects.inc();
    synced_ = false;
    if (std::string_view(which) == "subscriber") {
        subscriptions_held_ = false;
        presence_.drop_alive(*redis_);  // the others must not count on this node hearing them
        calls_.fail_all();  // a lost subscriber link would never hear the answers
    }
    update_connected();
    auto now = std::chrono::steady_clock::now();
    if (now - last_down_log_ > 5s) {  // a Redis that is down for long is said once per 5 s, not per attempt
        last_down_log_ = now;
        std::string refusal = redis_->refusal();
        std::string why = !refusal.empty() ? "Redis answered: " + refusal : ec.message();
        spdlog::warn("cluster: {} link to Redis {}: {}; retrying in {} ms", which, redis_->text(), why, retry_in.count());
    }
    // Without its command link this node hears calls it cannot answer: leave the channels, so
    // that the other nodes count it out at once instead of waiting out each call. (After the
    // log line: the subscriber's own loss must not be logged as the reason.)
    if (std::string_view(which) == "command") redis_->drop_subscribers(ec);
}

// A write refused (CLUSTERDOWN while a restarted master rejoins, OOM): the whole share and the
// liveness key again, once for all the refusals of the next 500 ms, until Redis takes them.
void cluster_bus::rewrite_soon(std::string_view why) {
    std::uint64_t suppressed = 0;
    if (write_log_.allow(suppressed))
        spdlog::warn("cluster: Redis refused a presence write ({}): writing this node's share again{}", why,
                     suppressed ? fmt::format(" ({} more since the last line)", suppressed) : "");
    if (rewrite_pending_ || stopped_) return;
    rewrite_pending_ = true;
    rewrite_timer_.expires_after(500ms);
    rewrite_timer_.async_wait([this](boost::system::error_code ec) {
        rewrite_pending_ = false;
        if (ec || stopped_ || !redis_->up()) return;  // a link coming up rewrites it anyway
        presence_.rewrite(*redis_);
        if (synced_) presence_.write_alive(*redis_);
    });
}

// A master added or gone: out of sync until every link of the new set is up and subscribed
// (on_command_up, on_subscribed); at once when only links went away.
void cluster_bus::on_reshaped() {
    synced_ = false;
    subscriptions_held_ = redis_->subscriptions_up() && !subscription_refused_;
    update_connected();
    on_subscribed_or_up();
}

void cluster_bus::update_connected() {
    auto now = std::chrono::steady_clock::now();
    bool ok = synced_ && probe_seen_ > 0 && now - probe_seen_at_ < probe_fresh;
    if (ok != connected_.load()) {
        if (ok) spdlog::info("cluster: connected (probe round trip through Redis)");
        else spdlog::warn("cluster: not connected: calls for other nodes answer 503, /readyz fails");
    }
    connected_ = ok;
    metrics_.cluster_connected.set(ok ? 1 : 0);
}

// Once a second, while in sync: the liveness key, and a probe on the channel every node hears.
// Its own return proves this node's path (command link → Redis → subscriber); the others'
// tell it who is there.
void cluster_bus::tick_probe() {
    if (stopped_) return;
    auto now = std::chrono::steady_clock::now();
    update_connected();
    if (synced_ && now - std::max(probe_seen_at_, synced_at_) > probe_stale) {
        spdlog::warn("cluster: no probe came back through Redis {} for {} s: reconnecting both links",
                     redis_->text(), std::chrono::duration_cast<std::chrono::seconds>(probe_stale).count());
        redis_->drop_all(boost::asio::error::timed_out);
    }
    presence_.forget_silent(now);
    metrics_.cluster_nodes.set(static_cast<std::int64_t>(1 + presence_.heard_within(probe_fresh, now)));
    if (synced_) {
        presence_.write_alive(*redis_);
        envelope p{.kind = kind::probe, .seq = ++probe_sent_, .origin = self_};
        publish_envelope(all_channel_, p, [](const redisReply*) {});
    }
    probe_timer_.expires_after(probe_every);
    probe_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick_probe();
    });
}

void cluster_bus::tick_refresh() {
    if (stopped_) return;
    presence_.refresh(*redis_);
    refresh_timer_.expires_after(settings_.node_ttl / 3);
    refresh_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick_refresh();
    });
}

void cluster_bus::tick_sweep() {
    if (stopped_) return;
    if (std::size_t n = calls_.expire(std::chrono::steady_clock::now())) {
        spdlog::warn("cluster: {} call(s) ended unanswered after {} ms", n, settings_.call_timeout.count());
    }
    sweep_timer_.expires_after(sweep_every);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick_sweep();
    });
}

void cluster_bus::subscribe_room(const std::string& room) {
    if (auto it = leaving_.find(room); it != leaving_.end()) {
        it->second->cancel();  // joined again before its unsubscribe: no flapping
        leaving_.erase(it);
    }
    if (!subscribed_.insert(room).second) return;
    redis_->subscribe(names_.room(room));
}

// The last local member left: unsubscribe after a while, unless a member joins meanwhile, so
// that a room whose only member reconnects does not cost two commands and a gap each time.
void cluster_bus::unsubscribe_later(const std::string& room) {
    auto timer = std::make_shared<asio::steady_timer>(ioc_, settings_.unsubscribe_after);
    leaving_[room] = timer;
    timer->async_wait([this, room, timer](boost::system::error_code ec) {
        if (ec || stopped_) return;
        leaving_.erase(room);
        if (presence_.has_room(room) || !subscribed_.erase(room)) return;
        redis_->unsubscribe(names_.room(room));
    });
}

void cluster_bus::entered(const core::connection& c) {
    asio::post(ioc_, [this, id = std::string(c.id()), user = c.user()] {
        if (!stopped_) presence_.entered(id, user, *redis_);
    });
}

void cluster_bus::exited(const core::connection& c) {
    asio::post(ioc_, [this, id = std::string(c.id()), user = c.user()] {
        if (!stopped_) presence_.exited(id, user, *redis_);
    });
}

void cluster_bus::joined(const std::string& room, const core::connection& c) {
    asio::post(ioc_, [this, room, id = std::string(c.id()), user = c.user()] {
        if (!stopped_ && presence_.joined(room, id, user, *redis_)) subscribe_room(room);
    });
}

void cluster_bus::left(const std::string& room, const core::connection& c) {
    asio::post(ioc_, [this, room, id = std::string(c.id())] {
        if (!stopped_ && presence_.left(room, id, *redis_)) unsubscribe_later(room);
    });
}

}  // namespace wsgated::cluster
