// cluster_bus: the hub::bus of a gateway that is one node of a cluster (SPEC §8), over Redis
// pub/sub. hub::delivery serves this node's connections itself and hands this bus the rest:
//
//   a call for a connection on node N   → PUBLISH on N's channel; N runs it through its own
//                                         delivery and answers on this node's channel
//   a room publish                      → PUBLISH on the room's channel (subscribed by the
//                                         nodes with members: one subscription per room, not
//                                         per member), the payload crossing Redis once
//   a broadcast, a user-wide call       → PUBLISH on the channel every node hears
//   counts and member lists             → presence (each node's share in expiring keys)
//
// Every node that hears a fan-out answers its count, so a call's answer is exact (see
// pending_calls). A publish made here reaches local members before this bus is called and
// never again: a node drops its own messages when they come back, except to count itself.
//
// Losing Redis: local delivery goes on (delivery needs no bus for it); calls that need another
// node answer `unavailable` (503), counted in cluster_publish_failures_total; connected() is
// false, so /readyz fails, and cluster_connected is 0. Both links reconnect with backoff and
// jitter; on their return the subscriptions and the whole presence share are written again.
// connected() means more than two open sockets: this node is in sync (subscribed, its share
// written) and its own probe made the round trip through Redis within the last 3 s. Probes go
// on the channel every node hears, so each node also knows which others are there.
//
// Owned by server::server, which starts it before the workers and stops it after them. Runs on
// the control thread's io_context; the hub::bus calls come from any thread and are posted there.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cluster/channels.h"
#include "cluster/envelope.h"
#include "cluster/pending_calls.h"
#include "cluster/presence.h"
#include "cluster/redis_shards.h"
#include "config/gateway_config.h"
#include "core/log_limiter.h"
#include "hub/bus.h"
#include "hub/delivery.h"
#include "metrics/gateway_metrics.h"

namespace wsgated::cluster {

struct bus_settings {
    std::vector<redis_endpoint> seeds;  // one Redis, or seed nodes of a Redis Cluster (redis_shards)
    std::string node_id;  // the operator's name for this node (logs, the liveness key)
    std::chrono::milliseconds node_ttl{15000};
    std::chrono::milliseconds call_timeout{3000};  // a node that heard a call and does not answer
    std::chrono::milliseconds unsubscribe_after{2000};  // a room's last member left: wait before UNSUBSCRIBE
};

// The settings of a `cluster:` section (its TLS context built here; the loader checked the file).
bus_settings settings_from(const config::cluster_config& c);

class cluster_bus final : public hub::bus {
public:
    cluster_bus(boost::asio::io_context& control, hub::delivery& delivery, metrics::gateway_metrics& metrics,
                bus_settings settings);
    ~cluster_bus() override;
    void start();
    void stop();  // on the control thread; answers every waiting call `unavailable`
    // A graceful stop, once the workers have stopped: the membership changes they posted are
    // applied, this node's share and liveness key are deleted (so that the others' counts and
    // fan-outs drop it at once, not after node_ttl), then stop() and `done`; at most 1 s.
    void leave(std::function<void()> done);

    bool connected() const override { return connected_.load(std::memory_order_relaxed); }
    void send(const std::string& id, core::message m, bool wait_written, hub::reply_executor ex,
              hub::outcome_fn done) override;
    void close(const std::string& id, std::uint16_t code, const std::string& reason, hub::reply_executor ex,
               hub::outcome_fn done) override;
    void join(const std::string& room, const std::string& id, bool join, hub::reply_executor ex,
              hub::change_fn done) override;
    void view(const std::string& id, hub::reply_executor ex, hub::view_fn done) override;
    void publish(const std::string& room, const core::message& m, const std::string& exclude,
                 hub::reply_executor ex, hub::count_fn done) override;
    void send_to_user(const std::string& user, const core::message& m, hub::reply_executor ex,
                      hub::count_fn done) override;
    void broadcast(const core::message& m, hub::reply_executor ex, hub::count_fn done) override;
    void join_user(const std::string& user, const std::string& room, bool join, hub::reply_executor ex,
                   hub::count_fn done) override;
    void close_user(const std::string& user, std::uint16_t code, const std::string& reason,
                    hub::reply_executor ex, hub::count_fn done) override;
    void room_count(const std::string& room, hub::reply_executor ex, hub::count_fn done) override;
    void room_members(const std::string& room, hub::reply_executor ex, hub::members_fn done) override;
    void user_connections(const std::string& user, hub::reply_executor ex, hub::members_fn done) override;

    void entered(const core::connection& c) override;
    void exited(const core::connection& c) override;
    void joined(const std::string& room, const core::connection& c) override;
    void left(const std::string& room, const core::connection& c) override;

private:
    // Links and timers (cluster_bus.cpp).
    void on_command_up();
    void on_subscriber_up();
    void on_subscribed();  // the subscriber link's PING came back: every SUBSCRIBE before it holds
    void resubscribe_later();  // Redis refused one: the subscriber link starts over in 5 s
    void on_subscribed_or_up();
    void on_reshaped();  // a Redis Cluster's masters changed: in sync again once every link is
    void rewrite_soon(std::string_view why);  // Redis refused a presence write: the share again in 500 ms
    void on_down(const char* which, boost::system::error_code ec, std::chrono::milliseconds retry_in);
    void update_connected();
    void tick_probe();
    void tick_refresh();
    void tick_sweep();
    void subscribe_room(const std::string& room);
    void unsubscribe_later(const std::string& room);
    // Outgoing calls (cluster_calls.cpp).
    std::uint64_t start_call(bool fan_out, const std::string& channel, envelope e, pending_calls::done_fn done,
                             std::string_view node = {});
    void call_node(std::string_view tag, envelope e, pending_calls::done_fn done);
    void fan_out(const std::string& channel, envelope e, pending_calls::done_fn done);
    void publish_envelope(const std::string& channel, const envelope& e, std::function<void(const redisReply*)> done);
    // Incoming (cluster_inbound.cpp).
    void on_push(const redisReply& r);
    void on_envelope(const envelope& e);
    void on_request(const envelope& e);
    void on_fan_out(const envelope& e);
    void answer(std::string_view to, std::uint64_t seq, const call_result& r);

    boost::asio::io_context& ioc_;
    hub::delivery& delivery_;
    metrics::gateway_metrics& metrics_;
    bus_settings settings_;
    channels names_;
    std::string self_;  // this node's tag
    std::string self_channel_, all_channel_;
    presence presence_;
    pending_calls calls_;
    std::unique_ptr<redis_shards> redis_;
    boost::asio::steady_timer probe_timer_, refresh_timer_, sweep_timer_, leave_timer_, resubscribe_timer_, rewrite_timer_;
    bool rewrite_pending_ = false;
    bool subscription_refused_ = false;  // on the current subscriber link, before its PING came back
    bool resubscribe_pending_ = false;
    std::atomic<bool> connected_{false};
    bool synced_ = false;  // both links up, subscribed, this node's share written: calls may go
    bool subscriptions_held_ = false;
    std::uint64_t probe_sent_ = 0, probe_seen_ = 0;
    std::chrono::steady_clock::time_point probe_seen_at_{}, synced_at_{};
    std::set<std::string> subscribed_;  // rooms whose channel this node hears (redis_shards keeps them subscribed)
    std::unordered_map<std::string, std::shared_ptr<boost::asio::steady_timer>> leaving_;  // rooms about to be unsubscribed
    std::chrono::steady_clock::time_point last_down_log_{};
    bool stopped_ = false;
    metrics::counter* messages_in_;   // cluster_messages_total's cells, looked up once
    metrics::counter* messages_out_;
    core::log_limiter refusal_log_{1};  // Redis refusing subscriptions: a line a second at most
    core::log_limiter write_log_{1};    // Redis refusing presence writes: the same
};

}  // namespace wsgated::cluster
