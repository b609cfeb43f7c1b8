// delivery: see delivery.h.
#include "hub/delivery.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include <boost/asio/post.hpp>

#include "protocol/connection_id.h"

namespace wsgated::hub {
namespace {

// `done`, called from whatever thread, runs on `ex` (delivery's promise to its callers).
template <class Done>
auto on_executor(reply_executor ex, Done done) {
    return [ex = std::move(ex), done = std::move(done)](auto... args) {
        boost::asio::post(ex, [done, ... args = std::move(args)]() mutable { done(std::move(args)...); });
    };
}

// The members gathered from several workers' threads.
struct member_list {
    std::mutex mutex;
    std::vector<member> list;
};

std::vector<member> merged(std::vector<member> local, std::vector<member> remote) {
    local.insert(local.end(), std::make_move_iterator(remote.begin()), std::make_move_iterator(remote.end()));
    std::sort(local.begin(), local.end(), [](const member& a, const member& b) { return a.id < b.id; });
    return local;
}

}  // namespace

delivery::delivery(core::process_state& state)
    : state_(state), node_(protocol::make_node_tag()), rooms_(state.workers(), state.metrics.rooms) {
    for (unsigned w = 0; w < state.workers(); ++w) locals_.push_back(std::make_unique<local_hub>(w, rooms_));
}

std::string delivery::new_connection_id() const { return protocol::make_connection_id(node_); }

bool delivery::is_local(const std::string& id) const { return protocol::node_tag_of(id) == node_; }

void delivery::enter(core::connection& c, unsigned worker) {
    locals_[worker]->add(&c);
    connections_.add(c.id(), worker, c.user());
}

void delivery::leave_all(core::connection& c, unsigned worker) {
    locals_[worker]->remove(&c);  // leaves every room
    connections_.remove(c.id(), c.user());
}

bool delivery::join(core::connection& c, unsigned worker, const std::string& room) {
    return locals_[worker]->join(room, &c);
}

bool delivery::leave(core::connection& c, unsigned worker, const std::string& room) {
    return locals_[worker]->leave(room, &c);
}

std::vector<std::string> delivery::rooms_of(core::connection& c, unsigned worker) const {
    auto rooms = locals_[worker]->rooms_of(&c);
    std::sort(rooms.begin(), rooms.end());
    return rooms;
}

core::connection* delivery::local_connection(unsigned worker, std::string_view id) const {
    return locals_[worker]->find(id);
}

template <class Fn>
void delivery::run_on(unsigned w, Fn&& fn) {
    auto& ioc = state_.context(w);
    if (ioc.get_executor().running_in_this_thread()) fn();
    else boost::asio::post(ioc, std::forward<Fn>(fn));
}

template <class Fn, class Missing>
void delivery::on_local(const std::string& id, Fn fn, Missing missing) {
    auto w = connections_.worker_of(id);
    if (!w) return missing();
    run_on(*w, [this, w = *w, id, fn = std::move(fn), missing = std::move(missing)]() mutable {
        local_hub& local = *locals_[w];
        if (auto* c = local.find(id)) return fn(*c, local);
        missing();  // it ended between the lookup and now
    });
}

void delivery::on_workers(const std::vector<unsigned>& workers, std::function<void(unsigned, local_hub&)> fn,
                          std::function<void()> after) {
    if (workers.empty()) return after();
    auto pending = std::make_shared<std::atomic<std::size_t>>(workers.size());
    for (unsigned w : workers) {
        run_on(w, [this, w, fn, after, pending] {
            fn(w, *locals_[w]);
            if (pending->fetch_sub(1) == 1) after();
        });
    }
}

void delivery::send(const std::string& id, core::message m, bool wait_written, reply_executor ex,
                    outcome_fn done) {
    if (!is_local(id)) return bus_->send(id, std::move(m), wait_written, std::move(ex), std::move(done));
    auto reply = on_executor(std::move(ex), std::move(done));
    on_local(id, [m = std::move(m), wait_written, reply](core::connection& c, local_hub&) mutable {
        if (wait_written) m.on_written = [reply](bool written) { reply(written ? outcome::ok : outcome::gone); };
        c.send(std::move(m));
        if (!wait_written) reply(outcome::ok);
    }, [reply] { reply(outcome::not_found); });
}

void delivery::close(const std::string& id, std::uint16_t code, std::string reason, reply_executor ex,
                     outcome_fn done) {
    if (!is_local(id)) return bus_->close(id, code, reason, std::move(ex), std::move(done));
    auto reply = on_executor(std::move(ex), std::move(done));
    on_local(id, [code, reason = std::move(reason), reply](core::connection& c, local_hub&) {
        c.close(code, reason);
        reply(outcome::ok);
    }, [reply] { reply(outcome::not_found); });
}

void delivery::join(const std::string& room, const std::string& id, bool join, reply_executor ex,
                    change_fn done) {
    if (!is_local(id)) return bus_->join(room, id, join, std::move(ex), std::move(done));
    auto reply = on_executor(std::move(ex), std::move(done));
    on_local(id, [room, join, reply](core::connection& c, local_hub& local) {
        reply(outcome::ok, join ? local.join(room, &c) : local.leave(room, &c));
    }, [reply] { reply(outcome::not_found, false); });
}

void delivery::view(const std::string& id, reply_executor ex, view_fn done) {
    if (!is_local(id)) return bus_->view(id, std::move(ex), std::move(done));
    auto reply = on_executor(std::move(ex), std::move(done));
    on_local(id, [reply](core::connection& c, local_hub& local) {
        connection_view v{c.info(), local.rooms_of(&c)};
        std::sort(v.rooms.begin(), v.rooms.end());
        reply(outcome::ok, std::move(v));
    }, [reply] { reply(outcome::not_found, connection_view{}); });
}

void delivery::set_bus(bus& b) {
    bus_ = &b;
    for (auto& local : locals_) local->set_observer(&b);
}

std::uint64_t delivery::publish_here(const std::string& room, const core::message& m, const std::string& exclude) {
    std::uint64_t members = rooms_.members(room);
    for (unsigned w : rooms_.workers_of(room))
        run_on(w, [this, w, room, m, exclude] { locals_[w]->publish(room, m, exclude); });
    return members;
}

std::uint64_t delivery::broadcast_here(const core::message& m) {
    std::uint64_t n = connections_.size();
    for (unsigned w = 0; w < locals_.size(); ++w)
        run_on(w, [this, w, m] { locals_[w]->broadcast(m); });
    return n;
}

void delivery::publish(const std::string& room, core::message m, const std::string& exclude, reply_executor ex,
                       count_fn done) {
    state_.metrics.room_publishes.inc();
    std::uint64_t members = publish_here(room, m, exclude);
    bus_->publish(room, m, exclude, std::move(ex),
                  [members, done = std::move(done)](outcome o, std::uint64_t remote) { done(o, members + remote); });
}

void delivery::broadcast(core::message m, reply_executor ex, count_fn done) {
    std::uint64_t n = broadcast_here(m);
    bus_->broadcast(m, std::move(ex),
                    [n, done = std::move(done)](outcome o, std::uint64_t remote) { done(o, n + remote); });
}

namespace {

// The fn of a user-wide call, shared by its all-nodes and this-node-only forms.
auto sender(const core::message& m) {
    return [m](core::connection& c, local_hub&) { c.send(core::message{m.data, m.binary, nullptr}); };
}
auto joiner(const std::string& room, bool join) {
    return [room, join](core::connection& c, local_hub& local) {
        if (join) local.join(room, &c);
        else local.leave(room, &c);
    };
}
auto closer(std::uint16_t code, const std::string& reason) {
    return [code, reason](core::connection& c, local_hub&) { c.close(code, reason); };
}
void no_others(count_fn done) { done(outcome::ok, 0); }

}  // namespace

void delivery::send_to_user(const std::string& user, core::message m, reply_executor ex, count_fn done) {
    // ex by copy into the lambda: the order in which arguments are evaluated is unspecified
    // (clang moves first: found by tests/fuzz/admin_fuzz.cpp).
    for_user(user, sender(m), std::move(done),
             [this, user, m, ex](count_fn remote) { bus_->send_to_user(user, m, ex, std::move(remote)); });
}

void delivery::join_user(const std::string& user, const std::string& room, bool join, reply_executor ex,
                         count_fn done) {
    for_user(user, joiner(room, join), std::move(done), [this, user, room, join, ex](count_fn remote) {
        bus_->join_user(user, room, join, ex, std::move(remote));
    });
}

void delivery::close_user(const std::string& user, std::uint16_t code, std::string reason, reply_executor ex,
                          count_fn done) {
    for_user(user, closer(code, reason), std::move(done), [this, user, code, reason, ex](count_fn remote) {
        bus_->close_user(user, code, reason, ex, std::move(remote));
    });
}

void delivery::send_to_user_here(const std::string& user, const core::message& m, count_fn done) {
    for_user(user, sender(m), std::move(done), no_others);
}

void delivery::join_user_here(const std::string& user, const std::string& room, bool join, count_fn done) {
    for_user(user, joiner(room, join), std::move(done), no_others);
}

void delivery::close_user_here(const std::string& user, std::uint16_t code, const std::string& reason,
                               count_fn done) {
    for_user(user, closer(code, reason), std::move(done), no_others);
}

// fn runs on each worker for each of the user's connections there (one post per worker); once
// every worker has run it (so a 200 for a user-wide join means the joins are done), the count
// is this node's connections of the user plus what `remote` answers for the others.
void delivery::for_user(const std::string& user, std::function<void(core::connection&, local_hub&)> fn,
                        count_fn done, std::function<void(count_fn)> remote) {
    auto by_worker = std::make_shared<std::map<unsigned, std::vector<std::string>>>();
    auto targets = connections_.of_user(user);
    for (auto& [w, id] : targets) (*by_worker)[w].push_back(std::move(id));
    std::vector<unsigned> workers;
    for (auto& [w, _] : *by_worker) workers.push_back(w);
    std::uint64_t n = targets.size();
    auto each = [by_worker, fn](unsigned w, local_hub& local) {
        for (const auto& id : by_worker->at(w))
            if (auto* c = local.find(id)) fn(*c, local);
    };
    on_workers(workers, each, [n, done = std::move(done), remote = std::move(remote)]() mutable {
        remote([n, done = std::move(done)](outcome o, std::uint64_t others) { done(o, n + others); });
    });
}

void delivery::room_count(const std::string& room, reply_executor ex, count_fn done) {
    std::uint64_t members = rooms_.members(room);
    bus_->room_count(room, std::move(ex),
                     [members, done = std::move(done)](outcome o, std::uint64_t remote) { done(o, members + remote); });
}

void delivery::room_members(const std::string& room, reply_executor ex, members_fn done) {
    auto acc = std::make_shared<member_list>();
    auto gather = [this, room, acc](unsigned, local_hub& local) {
        auto here = local.members(room);
        std::lock_guard lock(acc->mutex);
        for (auto* c : here) acc->list.push_back(member{std::string(c->id()), c->user(), node_});
    };
    on_workers(rooms_.workers_of(room), gather, [this, room, acc, ex, done] {
        bus_->room_members(room, ex, [acc, done](outcome o, std::vector<member> remote) {
            done(o, merged(std::move(acc->list), std::move(remote)));
        });
    });
}

void delivery::user_connections(const std::string& user, reply_executor ex, members_fn done) {
    std::vector<member> here;
    for (auto& [w, id] : connections_.of_user(user)) here.push_back(member{std::move(id), user, node_});
    bus_->user_connections(user, std::move(ex), [here = std::move(here), done = std::move(done)](
                                                    outcome o, std::vector<member> remote) mutable {
        done(o, merged(std::move(here), std::move(remote)));
    });
}

}  // namespace wsgated::hub
