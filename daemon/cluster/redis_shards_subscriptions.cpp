// redis_shards: the channels this node hears, kept subscribed on the right link (see
// redis_shards.h). One server: SUBSCRIBE on its subscriber link. A Redis Cluster: SSUBSCRIBE on
// the subscriber link of the master that serves the channel's slot.
#include "cluster/redis_shards.h"

namespace wsgated::cluster {
namespace {

constexpr std::size_t subscribe_batch = 256;  // channels per SUBSCRIBE on a resubscribe (one server)

}  // namespace

void redis_shards::subscribe(const std::string& channel) {
    channels_.insert(channel);
    leaving_.erase(channel);
    if (shard* s = owner_of(channel); s && s->sub->up() && !s->subscribed.count(channel)) subscribe_on(*s, channel);
}

void redis_shards::unsubscribe(const std::string& channel) {
    if (!channels_.erase(channel)) return;
    for (auto& s : shards_) {
        if (!s->subscribed.erase(channel) || !s->sub->up()) continue;
        if (sharded()) leaving_.insert(channel);  // its "sunsubscribe" is ours, not a slot move
        s->sub->send({sharded() ? "SUNSUBSCRIBE" : "UNSUBSCRIBE", channel});
    }
}

void redis_shards::subscribe_on(shard& s, const std::string& channel) {
    s.subscribed.insert(channel);
    s.sub->send({sharded() ? "SSUBSCRIBE" : "SUBSCRIBE", channel});
}

// A new subscriber connection has no subscriptions: every channel this link serves, then a
// PING, whose answer comes after every subscription before it holds. (A sharded SSUBSCRIBE
// takes channels of one slot only: one command each.)
void redis_shards::on_sub_up(const shard_ptr& s) {
    s->subscribed.clear();
    s->held = false;
    if (handlers_.on_subscriber_up) handlers_.on_subscriber_up();
    if (sharded()) {
        for (const auto& ch : channels_)
            if (owner_of(ch) == s.get()) subscribe_on(*s, ch);
    } else {
        std::vector<std::string_view> args{"SUBSCRIBE"};
        for (const auto& ch : channels_) {
            s->subscribed.insert(ch);
            args.push_back(ch);
            if (args.size() > subscribe_batch) {
                s->sub->send(args);
                args.resize(1);
            }
        }
        if (args.size() > 1) s->sub->send(args);
    }
    s->sub->send({"PING"});
}

void redis_shards::on_sub_push(const shard_ptr& s, const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR) {
        // A SSUBSCRIBE that reached a master no longer serving the slot: the channels of that
        // slot go where the MOVED says (or where the refreshed map puts them).
        if (auto to = parse_redirect(text_of(&r))) {
            counters_.moved->inc();
            std::erase_if(s->subscribed, [&](const std::string& ch) { return key_slot(ch) == to->slot; });
            if (to->to.host.empty()) to->to.host = s->address.host;
            for (std::size_t i = 0; i < shards_.size(); ++i)
                if (shards_[i]->address == to->to) owner_[to->slot] = static_cast<std::uint16_t>(i);
            refresh_soon();
            return reconcile();
        }
        if (handlers_.on_push) handlers_.on_push(r);  // a refusal (an ACL's NOPERM): the bus decides
        return;
    }
    // A link with no subscription yet (a master serving none of this node's channels) answers
    // the PING as a plain +PONG, not as the subscribed form ["pong", ""].
    bool plain_pong = r.type == REDIS_REPLY_STATUS && text_of(&r) == "PONG";
    if (!plain_pong && (r.type != REDIS_REPLY_ARRAY || r.elements < 1)) return;
    std::string_view kind = plain_pong ? "pong" : text_of(r.element[0]);
    if (kind == "pong") {
        s->held = true;
        if (subscriptions_up() && handlers_.on_subscribed) handlers_.on_subscribed();
        return;
    }
    if (kind == "sunsubscribe" && r.elements >= 2) {
        // Not asked for: the channel's slot left this master (resharding, a failover).
        std::string ch(text_of(r.element[1]));
        if (leaving_.erase(ch) || !channels_.count(ch)) return;
        s->subscribed.erase(ch);
        refresh_soon();
        return reconcile();
    }
    if ((kind == "message" || kind == "smessage") && handlers_.on_push) handlers_.on_push(r);
}

// Every channel subscribed on its slot's master and nowhere else.
void redis_shards::reconcile() {
    for (auto& s : shards_) {
        for (auto it = s->subscribed.begin(); it != s->subscribed.end();) {
            if (owner_of(*it) == s.get()) {
                ++it;
                continue;
            }
            if (s->sub->up()) {
                leaving_.insert(*it);
                s->sub->send({sharded() ? "SUNSUBSCRIBE" : "UNSUBSCRIBE", *it});
            }
            it = s->subscribed.erase(it);
        }
    }
    for (const auto& ch : channels_)
        if (shard* o = owner_of(ch); o && o->sub->up() && !o->subscribed.count(ch)) subscribe_on(*o, ch);
}

}  // namespace wsgated::cluster
