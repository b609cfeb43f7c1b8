// control_api: see control_api.h.
#include "admin/control_api.h"

#include <algorithm>
#include <ctime>
#include <map>

#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "route/path_pattern.h"
#include "text/http_text.h"
#include "text/split.h"
#include "ws/upgrade.h"
#include "ws/utf8.h"

namespace wsgated::admin {
namespace {

using json_object = boost::json::object;

// One /v1 call, parsed: the decoded path segments after /v1/ and the query parameters.
struct call {
    const request& req;
    const admin_state& state;
    reply_to r;
    std::vector<std::string> seg;
    std::map<std::string, std::string> query;
};

bool parse_call(call& c) {
    auto full = ws::target_path(c.req.target());
    if (full.size() <= 4) return true;  // "/v1" or "/v1/": no call named, a 404
    for (auto raw : text::split(full.substr(4), '/')) {  // after "/v1/"
        std::string s;
        // %2F decodes to '/' here: room templates may make rooms like "tenant/lobby".
        if (!route::percent_decode_segment(raw, s, /*allow_slash=*/true)) return false;
        c.seg.push_back(std::move(s));
    }
    auto url = boost::urls::parse_origin_form(c.req.target());
    if (!url) return false;
    for (auto p : url->params()) c.query[std::string(p.key)] = std::string(p.value);
    return true;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
    return buf;
}

// The request body as a message: text for Content-Type text/* (valid UTF-8 only), else binary.
std::optional<response> body_message(const call& c, backend::message& out) {
    const auto& body = c.req.body();
    if (body.size() > c.state.config()->server.limits.max_message_size)
        return json_error(c.r, http::status::payload_too_large, "body over server.limits.max_message_size");
    std::string_view type = c.req[http::field::content_type];
    bool text = text::is_text_type(type);
    if (text && !ws::valid_utf8(body))
        return json_error(c.r, http::status::bad_request, "a text/* body must be valid UTF-8");
    out.data = std::make_shared<const std::string>(body);
    out.binary = !text;
    return std::nullopt;
}

// Runs `fn(connection, local_hub)` on the worker holding connection `id`; 404 when there is none.
template <class F>
void on_connection(const call& c, const std::string& id, responder done, F fn) {
    if (!valid_connection_id(id)) return done(json_error(c.r, http::status::bad_request, "malformed connection id"));
    auto* hub = c.state.hub;
    auto w = hub->connections.worker_of(id);
    auto not_found = json_error(c.r, http::status::not_found, "no such connection");
    if (!w) return done(std::move(not_found));
    boost::asio::post(hub->context(*w), [hub, w = *w, id, done = std::move(done), fn = std::move(fn),
                                         not_found = std::move(not_found)]() mutable {
        auto* conn = hub->local(w).find(id);
        if (!conn) return done(std::move(not_found));
        fn(*conn, hub->local(w), std::move(done));
    });
}

void send_to_connection(const call& c, responder done) {
    backend::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    bool wait = c.query.count("wait") && c.query.at("wait") == "written";
    auto r = c.r;
    on_connection(c, c.seg[1], std::move(done), [m = std::move(m), wait, r](backend::connection& conn, hub::local_hub&,
                                                                            responder done) mutable {
        if (!wait) {
            conn.send(std::move(m));
            return done(json(r, http::status::accepted, json_object{{"queued", true}}));
        }
        m.on_written = [r, done = std::move(done)](bool written) {
            done(written ? json(r, http::status::ok, json_object{{"written", true}})
                         : json_error(r, http::status::gone, "the connection closed before the message was written"));
        };
        conn.send(std::move(m));
    });
}

std::optional<response> parse_close(const call& c, std::uint16_t& code, std::string& reason) {
    code = 1000;
    if (auto it = c.query.find("code"); it != c.query.end()) {
        int v = -1;
        try { v = std::stoi(it->second); } catch (...) {}
        if (!(v == 1000 || (v >= 3000 && v <= 4999)) || std::to_string(v) != it->second)
            return json_error(c.r, http::status::bad_request, "code must be 1000 or 3000-4999");
        code = static_cast<std::uint16_t>(v);
    }
    if (auto it = c.query.find("reason"); it != c.query.end()) reason = it->second;
    if (reason.size() > 123 || !ws::valid_utf8(reason))
        return json_error(c.r, http::status::bad_request, "reason must be valid UTF-8 of at most 123 bytes");
    return std::nullopt;
}

void close_connection(const call& c, responder done) {
    std::uint16_t code;
    std::string reason;
    if (auto bad = parse_close(c, code, reason)) return done(std::move(*bad));
    auto r = c.r;
    on_connection(c, c.seg[1], std::move(done), [r, code, reason](backend::connection& conn, hub::local_hub&, responder done) {
        conn.close(code, reason);
        done(json(r, http::status::accepted, json_object{{"closing", true}}));
    });
}

void show_connection(const call& c, responder done) {
    auto r = c.r;
    on_connection(c, c.seg[1], std::move(done), [r](backend::connection& conn, hub::local_hub& local, responder done) {
        auto i = conn.info();
        json_object params, o;
        for (auto& [k, v] : i.params) params[k] = v;
        boost::json::array rooms;
        auto names = local.rooms_of(&conn);
        std::sort(names.begin(), names.end());
        for (auto& n : names) rooms.emplace_back(n);
        o["id"] = i.id;
        o["route"] = i.route;
        o["params"] = std::move(params);
        o["user"] = i.user.empty() ? boost::json::value(nullptr) : boost::json::value(i.user);
        o["rooms"] = std::move(rooms);
        boost::system::error_code ec;  // claims_json is ours, but never trust a parse to succeed
        auto claims = boost::json::parse(i.claims_json, ec);
        o["claims"] = ec ? boost::json::value(boost::json::object()) : std::move(claims);
        o["remote_address"] = i.remote_address;
        o["connected_at"] = iso_time(i.connected_at);
        o["rtt_seconds"] = i.rtt ? boost::json::value(std::chrono::duration<double>(*i.rtt).count())
                                 : boost::json::value(nullptr);
        done(json(r, http::status::ok, o));
    });
}

void join_or_leave(const call& c, responder done) {
    const std::string& room = c.seg[1];
    if (!valid_name(room)) return done(json_error(c.r, http::status::bad_request, "malformed room name"));
    bool join = c.req.method() == http::verb::put;
    auto r = c.r;
    on_connection(c, c.seg[3], std::move(done), [r, room, join](backend::connection& conn, hub::local_hub& local,
                                                                 responder done) {
        json_object o{{"room", room}, {"connection", conn.id()}};
        if (join) o["joined"] = local.join(room, &conn);
        else o["left"] = local.leave(room, &conn);
        done(json(r, http::status::ok, o));
    });
}

void publish(const call& c, responder done) {
    const std::string& room = c.seg[1];
    if (!valid_name(room)) return done(json_error(c.r, http::status::bad_request, "malformed room name"));
    std::string exclude = c.query.count("exclude") ? c.query.at("exclude") : "";
    if (!exclude.empty() && !valid_connection_id(exclude))
        return done(json_error(c.r, http::status::bad_request, "malformed connection id in exclude"));
    backend::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    auto members = c.state.hub->publish(room, std::move(m), exclude);
    done(json(c.r, http::status::accepted, json_object{{"room", room}, {"members", members}}));
}

void room_count(const call& c, responder done) {
    const std::string& room = c.seg[1];
    if (!valid_name(room)) return done(json_error(c.r, http::status::bad_request, "malformed room name"));
    done(json(c.r, http::status::ok, json_object{{"room", room}, {"members", c.state.hub->rooms.members(room)}}));
}

void to_user(const call& c, responder done) {
    const std::string& user = c.seg[1];
    if (!valid_name(user)) return done(json_error(c.r, http::status::bad_request, "malformed user name"));
    backend::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    auto n = c.state.hub->send_to_user(user, std::move(m));
    done(json(c.r, http::status::accepted, json_object{{"user", user}, {"connections", n}}));
}

void broadcast(const call& c, responder done) {
    backend::message m;
    if (auto bad = body_message(c, m)) return done(std::move(*bad));
    auto n = c.state.hub->broadcast(std::move(m));
    done(json(c.r, http::status::accepted, json_object{{"connections", n}}));
}

// (method, handler) for each path shape; a known shape with another method is a 405.
void dispatch(const call& c, responder done) {
    auto m = c.req.method();
    auto only = [&](http::verb v, const char* allow, void (*fn)(const call&, responder)) {
        if (m != v) return done(method_not_allowed(c.r, allow));
        fn(c, std::move(done));
    };
    const auto& s = c.seg;
    auto n = s.size();
    if (n == 2 && s[0] == "connections") {
        if (m == http::verb::get) return show_connection(c, std::move(done));
        if (m == http::verb::delete_) return close_connection(c, std::move(done));
        return done(method_not_allowed(c.r, "GET, DELETE"));
    }
    if (n == 3 && s[0] == "connections" && s[2] == "messages") return only(http::verb::post, "POST", send_to_connection);
    if (n == 2 && s[0] == "rooms") return only(http::verb::get, "GET", room_count);
    if (n == 3 && s[0] == "rooms" && s[2] == "messages") return only(http::verb::post, "POST", publish);
    if (n == 4 && s[0] == "rooms" && s[2] == "connections") {
        if (m != http::verb::put && m != http::verb::delete_) return done(method_not_allowed(c.r, "PUT, DELETE"));
        return join_or_leave(c, std::move(done));
    }
    if (n == 3 && s[0] == "users" && s[2] == "messages") return only(http::verb::post, "POST", to_user);
    if (n == 1 && s[0] == "broadcast") return only(http::verb::post, "POST", broadcast);
    done(json_error(c.r, http::status::not_found, "no such control API call"));
}

}  // namespace

bool valid_connection_id(std::string_view id) {
    return id.size() == 22 && std::all_of(id.begin(), id.end(), [](char ch) {
               return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                      ch == '-' || ch == '_';
           });
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 256) return false;
    return std::none_of(name.begin(), name.end(), [](char ch) {
        auto u = static_cast<unsigned char>(ch);
        return u < 0x20 || u == 0x7F;
    });
}

void handle_control(const request& req, const admin_state& state, responder done) {
    call c{req, state, reply_to::of(req), {}, {}};
    if (!parse_call(c)) return done(json_error(c.r, http::status::bad_request, "malformed path or query"));
    dispatch(c, std::move(done));
}

}  // namespace wsgated::admin
