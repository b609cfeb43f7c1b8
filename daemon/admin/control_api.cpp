// control_api: see control_api.h.
#include "admin/control_api.h"

#include <algorithm>

#include "admin/control_call.h"
#include "protocol/connection_id.h"

namespace wsgated::admin {
namespace {

using json_object = boost::json::object;

// A count answer: 202 with {key: name, count_key: n}, or the outcome's error.
hub::count_fn counted(const call& c, responder done, int status, const char* key, std::string name,
                      const char* count_key) {
    return [r = c.r, done = std::move(done), status, key, name = std::move(name), count_key](hub::outcome o,
                                                                                             std::uint64_t n) {
        // A fan-out reaches this node's share whatever the bus says: the answer tells how much.
        if (o == hub::outcome::unavailable)
            return done(json(r, http::status::service_unavailable,
                             json_object{{"error", "the other nodes of the cluster cannot be reached (Redis): only "
                                                   "this node's connections were served"},
                                         {std::string("this_node_") + count_key, n}}));
        if (o != hub::outcome::ok) return done(outcome_error(r, o));
        json_object body;
        if (key) body[key] = name;  // first, as the answers have always been written
        body[count_key] = n;
        done(json(r, static_cast<http::status>(status), body));
    };
}

// The calls. Each checks what it was given, then asks the delivery, whose answer arrives on
// this (the admin listener's) thread.

void send_to_connection(const call& c, responder done) {
    core::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    if (auto bad = check_id(c, c.seg[1])) return done(std::move(*bad));
    bool wait = c.param("wait") == "written";
    c.delivery().send(c.seg[1], std::move(m), wait, c.state.executor,
                      [r = c.r, wait, done = std::move(done)](hub::outcome o) {
                          if (o != hub::outcome::ok) return done(outcome_error(r, o));
                          done(wait ? json(r, http::status::ok, json_object{{"written", true}})
                                    : json(r, http::status::accepted, json_object{{"queued", true}}));
                      });
}

void close_connection(const call& c, responder done) {
    std::uint16_t code;
    std::string reason;
    if (auto bad = parse_close(c, code, reason)) return done(std::move(*bad));
    if (auto bad = check_id(c, c.seg[1])) return done(std::move(*bad));
    c.delivery().close(c.seg[1], code, std::move(reason), c.state.executor,
                       [r = c.r, done = std::move(done)](hub::outcome o) {
                           if (o != hub::outcome::ok) return done(outcome_error(r, o));
                           done(json(r, http::status::accepted, json_object{{"closing", true}}));
                       });
}

void show_connection(const call& c, responder done) {
    if (auto bad = check_id(c, c.seg[1])) return done(std::move(*bad));
    c.delivery().view(c.seg[1], c.state.executor,
                      [r = c.r, done = std::move(done)](hub::outcome o, hub::connection_view v) {
                          if (o != hub::outcome::ok) return done(outcome_error(r, o));
                          done(json(r, http::status::ok, view_json(v)));
                      });
}

void join_or_leave(const call& c, responder done) {
    const std::string& room = c.seg[1];
    if (auto bad = check_name(c, room, "room")) return done(std::move(*bad));
    if (auto bad = check_id(c, c.seg[3])) return done(std::move(*bad));
    bool join = c.req.method() == http::verb::put;
    c.delivery().join(room, c.seg[3], join, c.state.executor,
                      [r = c.r, room, id = c.seg[3], join, done = std::move(done)](hub::outcome o, bool changed) {
                          if (o != hub::outcome::ok) return done(outcome_error(r, o));
                          json_object body{{"room", room}, {"connection", id}};
                          body[join ? "joined" : "left"] = changed;
                          done(json(r, http::status::ok, body));
                      });
}

void publish(const call& c, responder done) {
    const std::string& room = c.seg[1];
    if (auto bad = check_name(c, room, "room")) return done(std::move(*bad));
    std::string exclude = c.param("exclude");
    if (!exclude.empty() && !protocol::valid_connection_id(exclude))
        return done(json_error(c.r, http::status::bad_request, "malformed connection id in exclude"));
    core::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    c.delivery().publish(room, std::move(m), exclude, c.state.executor,
                         counted(c, std::move(done), 202, "room", room, "members"));
}

void room_count(const call& c, responder done) {
    const std::string& room = c.seg[1];
    if (auto bad = check_name(c, room, "room")) return done(std::move(*bad));
    c.delivery().room_count(room, c.state.executor, counted(c, std::move(done), 200, "room", room, "members"));
}

// A list answer: 200 with {key: name, "connections": [{id, user, node}…]}.
hub::members_fn listed(const call& c, responder done, const char* key, std::string name) {
    return [r = c.r, done = std::move(done), key, name = std::move(name)](hub::outcome o,
                                                                           std::vector<hub::member> ms) {
        if (o != hub::outcome::ok) return done(outcome_error(r, o));
        done(json(r, http::status::ok, json_object{{key, name}, {"connections", members_json(ms)}}));
    };
}

void room_members(const call& c, responder done) {
    const std::string& room = c.seg[1];
    if (auto bad = check_name(c, room, "room")) return done(std::move(*bad));
    c.delivery().room_members(room, c.state.executor, listed(c, std::move(done), "room", room));
}

void user_connections(const call& c, responder done) {
    const std::string& user = c.seg[1];
    if (auto bad = check_name(c, user, "user")) return done(std::move(*bad));
    c.delivery().user_connections(user, c.state.executor, listed(c, std::move(done), "user", user));
}

void to_user(const call& c, responder done) {
    const std::string& user = c.seg[1];
    if (auto bad = check_name(c, user, "user")) return done(std::move(*bad));
    core::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    c.delivery().send_to_user(user, std::move(m), c.state.executor,
                              counted(c, std::move(done), 202, "user", user, "connections"));
}

void user_join_or_leave(const call& c, responder done) {
    const std::string& user = c.seg[1];
    const std::string& room = c.seg[3];
    if (auto bad = check_name(c, user, "user")) return done(std::move(*bad));
    if (auto bad = check_name(c, room, "room")) return done(std::move(*bad));
    bool join = c.req.method() == http::verb::put;
    c.delivery().join_user(user, room, join, c.state.executor,
                           [r = c.r, user, room, done = std::move(done)](hub::outcome o, std::uint64_t n) {
                               if (o != hub::outcome::ok) return done(outcome_error(r, o));
                               done(json(r, http::status::ok,
                                         json_object{{"user", user}, {"room", room}, {"connections", n}}));
                           });
}

void close_user(const call& c, responder done) {
    const std::string& user = c.seg[1];
    if (auto bad = check_name(c, user, "user")) return done(std::move(*bad));
    std::uint16_t code;
    std::string reason;
    if (auto bad = parse_close(c, code, reason)) return done(std::move(*bad));
    c.delivery().close_user(user, code, std::move(reason), c.state.executor,
                            counted(c, std::move(done), 202, "user", user, "connections"));
}

void broadcast(const call& c, responder done) {
    core::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    c.delivery().broadcast(std::move(m), c.state.executor,
                           counted(c, std::move(done), 202, nullptr, {}, "connections"));
}

// What a reload changed (or would change): {"added": [...], "removed": [...], "changed": [...]}.
boost::json::object changes_json(const std::vector<config::config_change>& changes) {
    boost::json::object out{{"added", boost::json::array()}, {"removed", boost::json::array()},
                            {"changed", boost::json::array()}};
    for (const auto& ch : changes) out[config::kind_name(ch.what)].as_array().emplace_back(ch.key);
    return out;
}

// POST /v1/reload[?dry_run=true]: the same reload as SIGHUP, answered with what it did; a dry
// run checks the file and says what a reload would change, changing nothing.
void reload(const call& c, responder done) {
    if (!c.state.reload) return done(json_error(c.r, http::status::service_unavailable, "reload is not available"));
    std::string dry = c.param("dry_run");
    if (!dry.empty() && dry != "true" && dry != "false")
        return done(json_error(c.r, http::status::bad_request, "dry_run must be true or false"));
    reload_report r = c.state.reload(dry == "true");
    if (r.draining) return done(json_error(c.r, http::status::service_unavailable, r.errors.front()));
    boost::json::array restart, errors;
    for (const auto& k : r.restart_needed) restart.emplace_back(k);
    for (const auto& e : r.errors) errors.emplace_back(e);
    if (!r.ok)
        return done(json(c.r, http::status::unprocessable_entity,
                         boost::json::object{{"error", r.dry_run ? "the file has errors"
                                                                  : "the file has errors; the running configuration stays"},
                                             {"errors", std::move(errors)}}));
    done(json(c.r, http::status::ok,
              boost::json::object{{"result", r.dry_run ? "would reload" : "reloaded"},
                                  {"changes", changes_json(r.changes)},
                                  {"restart_needed", std::move(restart)}}));
}

using handler = void (*)(const call&, responder);

// Which handler a path shape and method name, or the Allow header of a 405; nullptr + empty
// allow: no such call (404).
handler find_call(const std::vector<std::string>& s, http::verb m, const char*& allow) {
    auto n = s.size();
    auto is = [&](std::size_t size, const char* a, const char* b = nullptr) {
        return n == size && s[0] == a && (!b || s[2] == b);
    };
    auto pick = [&](const char* methods, std::initializer_list<std::pair<http::verb, handler>> hs) -> handler {
        allow = methods;
        for (auto& [v, h] : hs)
            if (v == m) return h;
        return nullptr;
    };
    using v = http::verb;
    if (is(2, "connections")) return pick("GET, DELETE", {{v::get, show_connection}, {v::delete_, close_connection}});
    if (is(3, "connections", "messages")) return pick("POST", {{v::post, send_to_connection}});
    if (is(2, "rooms")) return pick("GET", {{v::get, room_count}});
    if (is(3, "rooms", "messages")) return pick("POST", {{v::post, publish}});
    if (is(3, "rooms", "connections")) return pick("GET", {{v::get, room_members}});
    if (is(4, "rooms", "connections")) return pick("PUT, DELETE", {{v::put, join_or_leave}, {v::delete_, join_or_leave}});
    if (is(2, "users")) return pick("GET", {{v::get, user_connections}});
    if (is(3, "users", "messages")) return pick("POST", {{v::post, to_user}});
    if (is(3, "users", "connections")) return pick("DELETE", {{v::delete_, close_user}});
    if (is(4, "users", "rooms"))
        return pick("PUT, DELETE", {{v::put, user_join_or_leave}, {v::delete_, user_join_or_leave}});
    if (is(1, "broadcast")) return pick("POST", {{v::post, broadcast}});
    if (is(1, "reload")) return pick("POST", {{v::post, reload}});
    allow = nullptr;
    return nullptr;
}

void dispatch(const call& c, responder done) {
    const char* allow = nullptr;
    if (auto h = find_call(c.seg, c.req.method(), allow)) return h(c, std::move(done));
    if (allow) return done(method_not_allowed(c.r, allow));
    done(json_error(c.r, http::status::not_found, "no such control API call"));
}

}  // namespace

void handle_control(const request& req, const admin_state& state, responder done) {
    call c{req, state, reply_to::of(req), {}, {}};
    if (!parse_call(c)) return done(json_error(c.r, http::status::bad_request, "malformed path or query"));
    dispatch(c, std::move(done));
}

}  // namespace wsgated::admin
