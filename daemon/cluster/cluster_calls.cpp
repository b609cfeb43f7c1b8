// cluster_bus: the calls this node makes to the others (see cluster_bus.h). Each hub::bus call
// posts to the control thread, sends one PUBLISH, and answers on the caller's executor.
#include <boost/asio/post.hpp>

#include "cluster/cluster_bus.h"
#include "cluster/view_codec.h"
#include "protocol/connection_id.h"

namespace wsgated::cluster {
namespace {

namespace asio = boost::asio;

// `done(args...)` on the caller's executor.
template <class Done, class... Args>
void reply(hub::reply_executor& ex, Done& done, Args... args) {
    asio::post(ex, [done = std::move(done), ... args = std::move(args)]() mutable { done(std::move(args)...); });
}

}  // namespace

void cluster_bus::publish_envelope(const std::string& channel, const envelope& e,
                                   std::function<void(const redisReply*)> done) {
    if (redis_->up()) messages_out_->inc();  // a PUBLISH that cannot leave is not one
    std::string bytes = encode(e);
    redis_->publish(channel, bytes, std::move(done));
}

// The PUBLISH's own answer says how many nodes heard the call; pending_calls then waits for
// their answers. For 0 listeners of a node's channel: "no such connection" when that node is
// gone (not heard within node_ttl), but 503 while it is alive and only resubscribing (after a
// Redis restart the nodes come back a moment apart): a backend must not drop a live client.
std::uint64_t cluster_bus::start_call(bool fan_out, const std::string& channel, envelope e,
                                      pending_calls::done_fn done, std::string_view node) {
    auto counted = [this, done = std::move(done)](call_result r) {
        if (r.outcome == hub::outcome::unavailable) metrics_.cluster_publish_failures.inc();
        done(std::move(r));
    };
    // Not in sync, or in sync but our own probe has not come back lately (a wedged path): the
    // call could not travel or be answered; 503 now rather than after the answer timeout.
    if (!synced_ || !connected_.load()) {
        counted(call_result{hub::outcome::unavailable});
        return 0;
    }
    e.seq = calls_.open(fan_out, std::chrono::steady_clock::now() + settings_.call_timeout, std::move(counted));
    e.origin = self_;
    publish_envelope(channel, e, [this, seq = e.seq, node = std::string(node)](const redisReply* r) {
        if (!r || r->type != REDIS_REPLY_INTEGER) return calls_.failed(seq);
        auto receivers = static_cast<std::uint64_t>(std::max<long long>(r->integer, 0));
        if (receivers == 0 && !node.empty() && presence_.knows(node)) return calls_.failed(seq);
        calls_.heard_by(seq, receivers);
    });
    return e.seq;
}

void cluster_bus::call_node(std::string_view tag, envelope e, pending_calls::done_fn done) {
    start_call(false, names_.node(tag), e, std::move(done), tag);
}

// Which other nodes must hear it is read from presence in the same pipeline as the PUBLISH.
void cluster_bus::fan_out(const std::string& channel, envelope e, pending_calls::done_fn done) {
    std::string room = e.kind == kind::publish ? std::string(e.a) : std::string();
    std::uint64_t seq = start_call(true, channel, e, std::move(done));
    if (!seq) return;
    auto needs = [this, seq](std::set<std::string> nodes, bool unknown) { calls_.needs(seq, std::move(nodes), unknown); };
    if (!room.empty()) presence_.needs_for_room(room, *redis_, needs);
    else presence_.needs_for_all(*redis_, needs);
}

void cluster_bus::send(const std::string& id, core::message m, bool wait_written, hub::reply_executor ex,
                       hub::outcome_fn done) {
    asio::post(ioc_, [this, id, m = std::move(m), wait_written, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::request, .op = std::uint8_t(op::send),
                   .flags = std::uint8_t((m.binary ? flag::binary : 0) | (wait_written ? flag::wait_written : 0)),
                   .a = id, .payload = *m.data};
        call_node(protocol::node_tag_of(id), e, [ex, done](call_result r) mutable { reply(ex, done, r.outcome); });
    });
}

void cluster_bus::close(const std::string& id, std::uint16_t code, const std::string& reason,
                        hub::reply_executor ex, hub::outcome_fn done) {
    asio::post(ioc_, [this, id, code, reason, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::request, .op = std::uint8_t(op::close), .code = code, .a = id, .b = reason};
        call_node(protocol::node_tag_of(id), e, [ex, done](call_result r) mutable { reply(ex, done, r.outcome); });
    });
}

void cluster_bus::join(const std::string& room, const std::string& id, bool join, hub::reply_executor ex,
                       hub::change_fn done) {
    asio::post(ioc_, [this, room, id, join, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::request, .op = std::uint8_t(op::join), .flags = join ? flag::join : std::uint8_t(0),
                   .a = id, .b = room};
        call_node(protocol::node_tag_of(id), e,
                  [ex, done](call_result r) mutable { reply(ex, done, r.outcome, r.changed); });
    });
}

void cluster_bus::view(const std::string& id, hub::reply_executor ex, hub::view_fn done) {
    asio::post(ioc_, [this, id, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::request, .op = std::uint8_t(op::view), .a = id};
        call_node(protocol::node_tag_of(id), e, [ex, done](call_result r) mutable {
            auto v = r.outcome == hub::outcome::ok ? decode_view(r.payload) : std::nullopt;
            if (r.outcome == hub::outcome::ok && !v) r.outcome = hub::outcome::unavailable;  // a garbled answer
            reply(ex, done, r.outcome, v ? std::move(*v) : hub::connection_view{});
        });
    });
}

void cluster_bus::publish(const std::string& room, const core::message& m, const std::string& exclude,
                          hub::reply_executor ex, hub::count_fn done) {
    asio::post(ioc_, [this, room, m, exclude, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::publish, .flags = m.binary ? flag::binary : std::uint8_t(0), .a = room,
                   .b = exclude, .payload = *m.data};
        fan_out(names_.room(room), e, [ex, done](call_result r) mutable { reply(ex, done, r.outcome, r.count); });
    });
}

void cluster_bus::send_to_user(const std::string& user, const core::message& m, hub::reply_executor ex,
                               hub::count_fn done) {
    asio::post(ioc_, [this, user, m, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::user_send, .flags = m.binary ? flag::binary : std::uint8_t(0), .a = user,
                   .payload = *m.data};
        fan_out(all_channel_, e, [ex, done](call_result r) mutable { reply(ex, done, r.outcome, r.count); });
    });
}

void cluster_bus::broadcast(const core::message& m, hub::reply_executor ex, hub::count_fn done) {
    asio::post(ioc_, [this, m, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::broadcast, .flags = m.binary ? flag::binary : std::uint8_t(0), .payload = *m.data};
        fan_out(all_channel_, e, [ex, done](call_result r) mutable { reply(ex, done, r.outcome, r.count); });
    });
}

void cluster_bus::join_user(const std::string& user, const std::string& room, bool join, hub::reply_executor ex,
                            hub::count_fn done) {
    asio::post(ioc_, [this, user, room, join, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::user_join, .flags = join ? flag::join : std::uint8_t(0), .a = user, .b = room};
        fan_out(all_channel_, e, [ex, done](call_result r) mutable { reply(ex, done, r.outcome, r.count); });
    });
}

void cluster_bus::close_user(const std::string& user, std::uint16_t code, const std::string& reason,
                             hub::reply_executor ex, hub::count_fn done) {
    asio::post(ioc_, [this, user, code, reason, ex, done = std::move(done)]() mutable {
        envelope e{.kind = kind::user_close, .code = code, .a = user, .b = reason};
        fan_out(all_channel_, e, [ex, done](call_result r) mutable { reply(ex, done, r.outcome, r.count); });
    });
}

void cluster_bus::room_count(const std::string& room, hub::reply_executor ex, hub::count_fn done) {
    asio::post(ioc_, [this, room, ex, done = std::move(done)]() mutable {
        presence_.room_count(room, *redis_,
                             [ex, done](hub::outcome o, std::uint64_t n) mutable { reply(ex, done, o, n); });
    });
}

void cluster_bus::room_members(const std::string& room, hub::reply_executor ex, hub::members_fn done) {
    asio::post(ioc_, [this, room, ex, done = std::move(done)]() mutable {
        presence_.room_members(room, *redis_, [ex, done](hub::outcome o, std::vector<hub::member> ms) mutable {
            reply(ex, done, o, std::move(ms));
        });
    });
}

void cluster_bus::user_connections(const std::string& user, hub::reply_executor ex, hub::members_fn done) {
    asio::post(ioc_, [this, user, ex, done = std::move(done)]() mutable {
        presence_.user_connections(user, *redis_, [ex, done](hub::outcome o, std::vector<hub::member> ms) mutable {
            reply(ex, done, o, std::move(ms));
        });
    });
}

}  // namespace wsgated::cluster
