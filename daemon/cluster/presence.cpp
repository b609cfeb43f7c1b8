// presence: see presence.h. Every function runs on the control thread.
#include "cluster/presence.h"

#include <algorithm>
#include <memory>

#include <boost/asio/post.hpp>

#include "protocol/connection_id.h"
#include "protocol/names.h"

namespace wsgated::cluster {

using namespace std::chrono_literals;
namespace {

void ignore(const redisReply*) {}

// Collects answers from several commands; `done` runs once, after the last.
struct gather {
    std::size_t waiting = 0;
    hub::outcome outcome = hub::outcome::ok;
    std::function<void(hub::outcome)> done;
};

}  // namespace

presence::presence(const channels& names, std::string self, std::string node_id, std::chrono::milliseconds ttl)
    : names_(names), self_(std::move(self)), node_id_(std::move(node_id)), ttl_ms_(std::to_string(ttl.count())),
      alive_ttl_ms_(std::to_string(std::clamp<std::chrono::milliseconds>(ttl, 3s, 5s).count())), ttl_(ttl) {}

// A write's reply: an error (CLUSTERDOWN while a restarted master rejoins, OOM, a READONLY
// replica) means the share in Redis is not what the mirror holds: the owner writes it again.
redis_shards::reply_fn presence::checked() {
    return [this](const redisReply* r) {
        if (r && r->type == REDIS_REPLY_ERROR && on_write_error_) on_write_error_(text_of(r));
    };
}

void presence::expire(const std::string& key, redis_shards& cmd) { cmd.command({"PEXPIRE", key, ttl_ms_}, checked()); }

bool presence::joined(const std::string& room, const std::string& id, const std::string& user, redis_shards& cmd) {
    auto& members = rooms_[room];
    bool first = members.empty();
    members[id] = user;
    if (cmd.up()) {
        std::string key = names_.room_members(room, self_);
        cmd.command({"HSET", key, id, user}, checked());
        expire(key, cmd);
    }
    return first;
}

bool presence::left(const std::string& room, const std::string& id, redis_shards& cmd) {
    auto it = rooms_.find(room);
    if (it == rooms_.end() || !it->second.erase(id)) return false;
    if (cmd.up()) cmd.command({"HDEL", names_.room_members(room, self_), id}, checked());
    if (!it->second.empty()) return false;
    rooms_.erase(it);
    return true;
}

void presence::entered(const std::string& id, const std::string& user, redis_shards& cmd) {
    ++connections_;
    if (user.empty()) return;
    users_[user].insert(id);
    if (cmd.up()) {
        std::string key = names_.user_connections(user, self_);
        cmd.command({"HSET", key, id, ""}, checked());
        expire(key, cmd);
    }
}

void presence::exited(const std::string& id, const std::string& user, redis_shards& cmd) {
    if (connections_) --connections_;
    if (user.empty()) return;
    auto it = users_.find(user);
    if (it == users_.end() || !it->second.erase(id)) return;
    if (cmd.up()) cmd.command({"HDEL", names_.user_connections(user, self_), id}, checked());
    if (it->second.empty()) users_.erase(it);
}

void presence::write_room(const std::string& room, redis_shards& cmd) {
    std::string key = names_.room_members(room, self_);
    std::vector<std::string_view> args{"HSET", key};
    for (const auto& [id, user] : rooms_.at(room)) {
        args.push_back(id);
        args.push_back(user);
    }
    cmd.command({"DEL", key}, checked());
    cmd.command(args, checked());
    expire(key, cmd);
}

void presence::write_user(const std::string& user, redis_shards& cmd) {
    std::string key = names_.user_connections(user, self_);
    std::vector<std::string_view> args{"HSET", key};
    for (const auto& id : users_.at(user)) {
        args.push_back(id);
        args.push_back("");
    }
    cmd.command({"DEL", key}, checked());
    cmd.command(args, checked());
    expire(key, cmd);
}

void presence::rewrite(redis_shards& cmd) {
    for (const auto& [room, _] : rooms_) write_room(room, cmd);
    for (const auto& [user, _] : users_) write_user(user, cmd);
}

void presence::write_alive(redis_shards& cmd) {
    if (!cmd.up()) return;
    cmd.command({"SET", names_.node_alive(self_), std::to_string(connections_) + " " + node_id_, "PX", alive_ttl_ms_},
                checked());
}

void presence::drop_alive(redis_shards& cmd) {
    if (cmd.up()) cmd.command({"DEL", names_.node_alive(self_)}, ignore);
}

void presence::withdraw(redis_shards& cmd, std::function<void()> done) {
    drop_alive(cmd);
    for (const auto& [room, _] : rooms_) cmd.command({"DEL", names_.room_members(room, self_)}, ignore);
    for (const auto& [user, _] : users_) cmd.command({"DEL", names_.user_connections(user, self_)}, ignore);
    // Replies come in order on each link: every DEL before the barrier is done.
    cmd.barrier(std::move(done));
}

void presence::refresh(redis_shards& cmd) {
    if (!cmd.up()) return;
    for (const auto& [room, _] : rooms_) expire(names_.room_members(room, self_), cmd);
    for (const auto& [user, _] : users_) expire(names_.user_connections(user, self_), cmd);
}

void presence::heard(std::string_view tag, clock::time_point now) {
    if (tag == self_ || !protocol::valid_name(tag) || tag.size() > 64) return;
    auto it = others_.find(tag);
    if (it == others_.end()) others_.emplace(std::string(tag), now);
    else it->second = now;
}

void presence::forget_silent(clock::time_point now) {
    std::erase_if(others_, [&](const auto& n) { return now - n.second > ttl_; });
}

std::size_t presence::heard_within(clock::duration within, clock::time_point now) const {
    return std::count_if(others_.begin(), others_.end(), [&](const auto& n) { return now - n.second <= within; });
}

namespace {
constexpr auto answering = std::chrono::seconds(3);  // a node heard this recently will answer
}

// For each node heard within node_ttl / 2: EXISTS its liveness key (and HLEN its share of the
// room), pipelined with the fan-out's PUBLISH.
void presence::needs(redis_shards& cmd, const std::string* room, needs_fn done) {
    auto now = clock::now();
    struct state {
        std::size_t waiting = 0;
        std::set<std::string> needed;
        bool unknown = false;
    };
    auto st = std::make_shared<state>();
    // Every node not forgotten (heard within node_ttl), and whether it was heard within
    // `answering`: a silent one whose share is still in Redis may be cut off (a partition) and
    // miss the call, so its members count as unknown rather than absent.
    // A node not heard since this one's own resync whose liveness key is missing may not have
    // written its share yet (a Redis restart loses every key): its members count as unknown too.
    struct node {
        std::string tag;
        bool recent, unheard;
    };
    std::vector<node> ask;
    for (const auto& [tag, at] : others_) ask.push_back({tag, now - at <= answering, at < synced_at_});
    if (ask.empty()) return done({}, false);
    st->waiting = ask.size() * (room ? 2 : 1);
    auto finish = [st, done](bool) {
        if (--st->waiting == 0) done(std::move(st->needed), st->unknown);
    };
    for (const auto& [tag, recent, unheard] : ask) {
        auto alive = std::make_shared<int>(-1);  // -1 unknown, 0 missing, 1 present
        auto members = std::make_shared<long long>(room ? -1 : 1);
        auto judge = [st, tag, recent, unheard, alive, members, room] {
            if (*alive < 0 || *members < 0) return;
            bool in_sync = *alive == 1;
            if (recent && in_sync && *members > 0) return void(st->needed.insert(tag));
            // A room: members still in Redis that this call may not reach (their node is
            // reconnecting, silent, or dead with its share not expired yet: the counts still
            // hold them). Everyone: a node heard lately that is out of sync (reconnecting), or
            // one in sync that has gone silent (cut off); silent and out of sync is gone.
            bool at_risk = (room ? *members > 0 : recent != in_sync) || (!in_sync && unheard);
            if (at_risk) st->unknown = true;
        };
        cmd.command({"EXISTS", names_.node_alive(tag)}, [alive, judge, finish](const redisReply* r) {
            *alive = r && r->type == REDIS_REPLY_INTEGER ? (r->integer > 0 ? 1 : 0) : 0;
            judge();
            finish(true);
        });
        if (room)
            cmd.command({"HLEN", names_.room_members(*room, tag)}, [members, judge, finish](const redisReply* r) {
                *members = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
                judge();
                finish(true);
            });
    }
}

void presence::needs_for_room(const std::string& room, redis_shards& cmd, needs_fn done) { needs(cmd, &room, std::move(done)); }

void presence::needs_for_all(redis_shards& cmd, needs_fn done) { needs(cmd, nullptr, std::move(done)); }

std::vector<std::string> presence::rooms() const {
    std::vector<std::string> out;
    for (const auto& [room, _] : rooms_) out.push_back(room);
    return out;
}

void presence::ask_others(redis_shards& cmd, std::function<std::string(const std::string&)> key, const char* verb,
                          std::function<void(const std::string&, const redisReply&)> each,
                          std::function<void(hub::outcome)> done) {
    if (!cmd.up()) return done(hub::outcome::unavailable);
    if (others_.empty()) return done(hub::outcome::ok);
    auto g = std::make_shared<gather>();
    g->waiting = others_.size();
    g->done = std::move(done);
    for (const auto& [node, _] : others_) {
        cmd.command({verb, key(node)}, [g, node, each](const redisReply* r) {
            if (is_error(r)) g->outcome = hub::outcome::unavailable;
            else each(node, *r);
            if (--g->waiting == 0) g->done(g->outcome);
        });
    }
}

void presence::room_count(const std::string& room, redis_shards& cmd, hub::count_fn done) {
    auto n = std::make_shared<std::uint64_t>(0);
    ask_others(
        cmd, [this, room](const std::string& node) { return names_.room_members(room, node); }, "HLEN",
        [n](const std::string&, const redisReply& r) {
            if (r.type == REDIS_REPLY_INTEGER && r.integer > 0) *n += static_cast<std::uint64_t>(r.integer);
        },
        [n, done = std::move(done)](hub::outcome o) { done(o, *n); });
}

void presence::room_members(const std::string& room, redis_shards& cmd, hub::members_fn done) {
    auto out = std::make_shared<std::vector<hub::member>>();
    ask_others(
        cmd, [this, room](const std::string& node) { return names_.room_members(room, node); }, "HGETALL",
        [out](const std::string& node, const redisReply& r) {
            if (r.type != REDIS_REPLY_ARRAY) return;
            for (std::size_t i = 0; i + 1 < r.elements; i += 2) {
                std::string id(text_of(r.element[i]));
                if (protocol::valid_connection_id(id) && protocol::node_tag_of(id) == node)
                    out->push_back(hub::member{id, std::string(text_of(r.element[i + 1])), node});
            }
        },
        [out, done = std::move(done)](hub::outcome o) { done(o, std::move(*out)); });
}

void presence::user_connections(const std::string& user, redis_shards& cmd, hub::members_fn done) {
    auto out = std::make_shared<std::vector<hub::member>>();
    ask_others(
        cmd, [this, user](const std::string& node) { return names_.user_connections(user, node); }, "HKEYS",
        [out, user](const std::string& node, const redisReply& r) {
            if (r.type != REDIS_REPLY_ARRAY) return;
            for (std::size_t i = 0; i < r.elements; ++i) {
                std::string id(text_of(r.element[i]));
                if (protocol::valid_connection_id(id) && protocol::node_tag_of(id) == node)
                    out->push_back(hub::member{id, user, node});
            }
        },
        [out, done = std::move(done)](hub::outcome o) { done(o, std::move(*out)); });
}

}  // namespace wsgated::cluster
