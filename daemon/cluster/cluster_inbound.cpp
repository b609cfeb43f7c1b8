// cluster_bus: what comes in from Redis (see cluster_bus.h): another node's fan-out, a call for
// one of this node's connections, an answer to this node's calls, this node's own probe. Runs
// on the control thread; each call reaches the workers through hub::delivery, like a local one.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "cluster/cluster_bus.h"
#include "cluster/view_codec.h"
#include "protocol/close_codes.h"
#include "protocol/connection_id.h"
#include "protocol/names.h"

namespace wsgated::cluster {
namespace {

namespace asio = boost::asio;

core::message message_of(const envelope& e) {
    return core::message{std::make_shared<const std::string>(e.payload), (e.flags & flag::binary) != 0, nullptr};
}

}  // namespace

// A subscriber link's messages: ["message" or "smessage" (a Redis Cluster's sharded pub/sub),
// channel, bytes], and the refusals of subscriptions (redis_shards keeps the rest).
void cluster_bus::on_push(const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR) {  // an ACL's NOPERM on a channel, say: once per 5 s, counted
        metrics_.messages_dropped.with({"cluster_refused"}).inc();
        subscription_refused_ = true;
        if (subscriptions_held_) resubscribe_later();  // a room's, after the rest held
        std::uint64_t suppressed = 0;
        if (refusal_log_.allow(suppressed))
            spdlog::error("cluster: Redis refused a subscription: {}{}", text_of(&r),
                          suppressed ? fmt::format(" ({} more since the last line)", suppressed) : "");
        return;
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) return;
    if (auto kind = text_of(r.element[0]); kind != "message" && kind != "smessage") return;
    messages_in_->inc();
    auto e = decode(text_of(r.element[2]));
    if (!e || !valid_origin(e->origin)) {
        metrics_.messages_dropped.with({"cluster_garbled"}).inc();
        return;
    }
    if (!valid_fields(*e)) {  // well formed, but not a request any node of ours would send
        metrics_.messages_dropped.with({"cluster_garbled"}).inc();
        if (e->kind != kind::reply && e->origin != self_) answer(e->origin, e->seq, call_result{hub::outcome::unavailable});
        return;
    }
    on_envelope(*e);
}

void cluster_bus::on_envelope(const envelope& e) {
    bool mine = e.origin == self_;
    if (!mine) presence_.heard(e.origin, std::chrono::steady_clock::now());
    switch (e.kind) {
    case kind::probe:  // every node's, once a second, on the channel all nodes hear
        if (mine && e.seq > probe_seen_) {
            probe_seen_ = e.seq;
            probe_seen_at_ = std::chrono::steady_clock::now();
            update_connected();
        }
        return;
    case kind::hello:
        // A node that just joined knows the others only from their next probes (up to a second):
        // ours goes at once, so that its first fan-out already counts this node.
        if (!mine && synced_) {
            envelope p{.kind = kind::probe, .seq = ++probe_sent_, .origin = self_};
            publish_envelope(all_channel_, p, [](const redisReply*) {});
        }
        return;
    case kind::reply:
        calls_.answered(e.seq, e.origin,
                        call_result{static_cast<hub::outcome>(std::min<std::uint8_t>(e.op, 3)), e.code,
                                    (e.flags & flag::changed) != 0, std::string(e.payload)});
        return;
    case kind::request:
        return on_request(e);
    default:
        // This node's own fan-out: its share was delivered before the PUBLISH, it counts itself.
        if (mine) return calls_.answered(e.seq, self_, call_result{});
        return on_fan_out(e);
    }
}

void cluster_bus::on_fan_out(const envelope& e) {
    std::string to(e.origin);
    std::uint64_t seq = e.seq;
    auto answer_count = [this, to, seq](hub::outcome, std::uint64_t n) {
        asio::post(ioc_, [this, to, seq, n] { answer(to, seq, call_result{hub::outcome::ok, n}); });
    };
    std::string a(e.a), b(e.b);
    switch (e.kind) {
    case kind::publish:  // counted in room_publishes by the node it was made on
        return answer(to, seq, call_result{hub::outcome::ok, delivery_.publish_here(a, message_of(e), b)});
    case kind::broadcast:
        return answer(to, seq, call_result{hub::outcome::ok, delivery_.broadcast_here(message_of(e))});
    case kind::user_send:
        return delivery_.send_to_user_here(a, message_of(e), answer_count);
    case kind::user_join:
        return delivery_.join_user_here(a, b, (e.flags & flag::join) != 0, answer_count);
    case kind::user_close:
        return delivery_.close_user_here(a, static_cast<std::uint16_t>(e.code), b, answer_count);
    default:
        return;
    }
}

// A call for one of this node's connections, run through delivery as the control API would.
void cluster_bus::on_request(const envelope& e) {
    std::string to(e.origin), id(e.a), b(e.b);
    std::uint64_t seq = e.seq;
    if (!protocol::valid_connection_id(id) || protocol::node_tag_of(id) != self_)
        return answer(to, seq, call_result{hub::outcome::not_found});
    auto ex = ioc_.get_executor();
    auto outcome_done = [this, to, seq](hub::outcome o) { answer(to, seq, call_result{o}); };
    switch (static_cast<op>(e.op)) {
    case op::send:
        return delivery_.send(id, message_of(e), (e.flags & flag::wait_written) != 0, ex, outcome_done);
    case op::close:
        return delivery_.close(id, static_cast<std::uint16_t>(e.code), b, ex, outcome_done);
    case op::join:
        return delivery_.join(b, id, (e.flags & flag::join) != 0, ex, [this, to, seq](hub::outcome o, bool changed) {
            answer(to, seq, call_result{o, 0, changed});
        });
    case op::view:
        return delivery_.view(id, ex, [this, to, seq](hub::outcome o, hub::connection_view v) {
            answer(to, seq, call_result{o, 0, false, o == hub::outcome::ok ? encode_view(v) : std::string()});
        });
    default:
        return;
    }
}

void cluster_bus::answer(std::string_view to, std::uint64_t seq, const call_result& r) {
    if (stopped_) return;
    envelope e{.kind = kind::reply, .op = static_cast<std::uint8_t>(r.outcome),
               .flags = r.changed ? flag::changed : std::uint8_t(0), .seq = seq, .code = r.count,
               .origin = self_, .payload = r.payload};
    publish_envelope(names_.node(to), e, [](const redisReply*) {});
}

}  // namespace wsgated::cluster
