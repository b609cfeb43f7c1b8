// presence: see presence.h. Every function runs on the control thread.
#include "cluster/presence.h"

#include <algorithm>
#include <memory>

#include <boost/asio/post.hpp>

#include "protocol/connection_id.h"

namespace wsgated::cluster {
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
    : names_(names), self_(std::move(self)), node_id_(std::move(node_id)), ttl_ms_(std::to_string(ttl.count())) {}

void presence::expire(const std::string& key, redis_link& cmd) { cmd.command({"PEXPIRE", key, ttl_ms_}, ignore); }

bool presence::joined(const std::string& room, const std::string& id, const std::string& user, redis_link& cmd) {
    auto& members = rooms_[room];
    bool first = members.empty();
    members[id] = user;
    if (cmd.up()) {
        std::string key = names_.room_members(room, self_);
        cmd.command({"HSET", key, id, user}, ignore);
        expire(key, cmd);
    }
    return first;
}

bool presence::left(const std::string& room, const std::string& id, redis_link& cmd) {
    auto it = rooms_.find(room);
    if (it == rooms_.end() || !it->second.erase(id)) return false;
    if (cmd.up()) cmd.command({"HDEL", names_.room_members(room, self_), id}, ignore);
    if (!it->second.empty()) return false;
    rooms_.erase(it);
    return true;
}

void presence::entered(const std::string& id, const std::string& user, redis_link& cmd) {
    ++connections_;
    if (user.empty()) return;
    users_[user].insert(id);
    if (cmd.up()) {
        std::string key = names_.user_connections(user, self_);
        cmd.command({"HSET", key, id, ""}, ignore);
        expire(key, cmd);
    }
}

void presence::exited(const std::string& id, const std::string& user, redis_link& cmd) {
    if (connections_) --connections_;
    if (user.empty()) return;
    auto it = users_.find(user);
    if (it == users_.end() || !it->second.erase(id)) return;
    if (cmd.up()) cmd.command({"HDEL", names_.user_connections(user, self_), id}, ignore);
    if (it->second.empty()) users_.erase(it);
}

void presence::write_room(const std::string& room, redis_link& cmd) {
    std::string key = names_.room_members(room, self_);
    std::vector<std::string_view> args{"HSET", key};
    for (const auto& [id, user] : rooms_.at(room)) {
        args.push_back(id);
        args.push_back(user);
    }
    cmd.command({"DEL", key}, ignore);
    cmd.command(args, ignore);
    expire(key, cmd);
}

void presence::write_user(const std::string& user, redis_link& cmd) {
    std::string key = names_.user_connections(user, self_);
    std::vector<std::string_view> args{"HSET", key};
    for (const auto& id : users_.at(user)) {
        args.push_back(id);
        args.push_back("");
    }
    cmd.command({"DEL", key}, ignore);
    cmd.command(args, ignore);
    expire(key, cmd);
}

void presence::rewrite(redis_link& cmd) {
    for (const auto& [room, _] : rooms_) write_room(room, cmd);
    for (const auto& [user, _] : users_) write_user(user, cmd);
    written_count_ = UINT64_MAX;
}

void presence::write_count(redis_link& cmd) {
    if (!cmd.up() || written_count_ == connections_) return;
    written_count_ = connections_;
    cmd.command({"SET", names_.node_alive(self_), std::to_string(connections_) + " " + node_id_, "PX", ttl_ms_},
                ignore);
}

void presence::refresh(redis_link& cmd, std::function<void(std::size_t)> done) {
    if (!cmd.up()) return done(1);
    written_count_ = UINT64_MAX;
    write_count(cmd);
    cmd.command({"SADD", names_.nodes(), self_}, ignore);
    for (const auto& [room, _] : rooms_) expire(names_.room_members(room, self_), cmd);
    for (const auto& [user, _] : users_) expire(names_.user_connections(user, self_), cmd);
    check_nodes(cmd, std::move(done));
}

// Re-reads the set of nodes; one whose liveness key expired is dropped from it (by any node:
// SREM is idempotent) and from others_.
void presence::check_nodes(redis_link& cmd, std::function<void(std::size_t)> done) {
    cmd.command({"SMEMBERS", names_.nodes()}, [this, &cmd, done = std::move(done)](const redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY) return done(1);
        auto g = std::make_shared<std::pair<std::size_t, std::size_t>>(r->elements, 1);  // waiting, alive
        std::set<std::string> seen;
        for (std::size_t i = 0; i < r->elements; ++i) {
            std::string tag(text_of(r->element[i]));
            cmd.command({"EXISTS", names_.node_alive(tag)}, [this, &cmd, tag, g, done](const redisReply* e) {
                bool alive = e && e->type == REDIS_REPLY_INTEGER && e->integer == 1;
                if (tag != self_) {
                    if (alive) {
                        others_.insert(tag);
                        ++g->second;
                    } else {
                        others_.erase(tag);
                        if (e) cmd.command({"SREM", names_.nodes(), tag}, ignore);
                    }
                }
                if (--g->first == 0) done(g->second);
            });
        }
        if (r->elements == 0) done(1);
    });
}

void presence::saw_node(const std::string& tag) {
    if (tag != self_) others_.insert(tag);
}

std::vector<std::string> presence::rooms() const {
    std::vector<std::string> out;
    for (const auto& [room, _] : rooms_) out.push_back(room);
    return out;
}

void presence::ask_others(redis_link& cmd, std::function<std::string(const std::string&)> key, const char* verb,
                          std::function<void(const std::string&, const redisReply&)> each,
                          std::function<void(hub::outcome)> done) {
    if (!cmd.up()) return done(hub::outcome::unavailable);
    if (others_.empty()) return done(hub::outcome::ok);
    auto g = std::make_shared<gather>();
    g->waiting = others_.size();
    g->done = std::move(done);
    for (const auto& node : others_) {
        cmd.command({verb, key(node)}, [g, node, each](const redisReply* r) {
            if (is_error(r)) g->outcome = hub::outcome::unavailable;
            else each(node, *r);
            if (--g->waiting == 0) g->done(g->outcome);
        });
    }
}

void presence::room_count(const std::string& room, redis_link& cmd, hub::count_fn done) {
    auto n = std::make_shared<std::uint64_t>(0);
    ask_others(
        cmd, [this, room](const std::string& node) { return names_.room_members(room, node); }, "HLEN",
        [n](const std::string&, const redisReply& r) {
            if (r.type == REDIS_REPLY_INTEGER && r.integer > 0) *n += static_cast<std::uint64_t>(r.integer);
        },
        [n, done = std::move(done)](hub::outcome o) { done(o, *n); });
}

void presence::room_members(const std::string& room, redis_link& cmd, hub::members_fn done) {
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

void presence::user_connections(const std::string& user, redis_link& cmd, hub::members_fn done) {
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
