// control_call: see control_call.h.
#include "admin/control_call.h"

#include <charconv>
#include <ctime>

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "admin/control_api.h"
#include "protocol/connection_id.h"
#include "protocol/names.h"
#include "protocol/utf8.h"
#include "route/path_pattern.h"
#include "text/http_text.h"
#include "text/split.h"

namespace wsgated::admin {
namespace {

using json_object = boost::json::object;

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

}  // namespace

bool parse_call(call& c) {
    auto full = text::target_path(c.req.target());
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

response outcome_error(const reply_to& r, hub::outcome o) {
    switch (o) {
    case hub::outcome::not_found: return json_error(r, http::status::not_found, "no such connection");
    case hub::outcome::gone:
        return json_error(r, http::status::gone, "the connection closed before the message was written");
    case hub::outcome::unavailable:
        return json_error(r, http::status::service_unavailable, "the node holding the target cannot be reached");
    case hub::outcome::ok: break;
    }
    return json_error(r, http::status::internal_server_error, "unexpected outcome");
}

std::optional<response> body_message(const call& c, core::message& out) {
    const auto& body = c.req.body();
    if (body.size() > c.state.config()->server.limits.max_message_size)
        return json_error(c.r, http::status::payload_too_large, "body over server.limits.max_message_size");
    std::string_view type = c.req[http::field::content_type];
    bool text = text::is_text_type(type);
    if (text && !protocol::valid_utf8(body))
        return json_error(c.r, http::status::bad_request, "a text/* body must be valid UTF-8");
    out.data = std::make_shared<const std::string>(body);
    out.binary = !text;
    return std::nullopt;
}

std::optional<response> parse_close(const call& c, std::uint16_t& code, std::string& reason) {
    code = 1000;
    if (auto it = c.query.find("code"); it != c.query.end()) {
        const std::string& s = it->second;
        unsigned v = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        bool digits = !s.empty() && ec == std::errc() && end == s.data() + s.size() && s[0] != '0';
        if (!digits || !protocol::valid_app_close_code(v))
            return json_error(c.r, http::status::bad_request, "code must be 1000 or 3000-4999");
        code = static_cast<std::uint16_t>(v);
    }
    reason = c.param("reason");
    if (!protocol::valid_close_reason(reason))
        return json_error(c.r, http::status::bad_request, "reason must be valid UTF-8 of at most 123 bytes");
    return std::nullopt;
}

std::optional<response> check_id(const call& c, const std::string& id) {
    if (protocol::valid_connection_id(id)) return std::nullopt;
    return json_error(c.r, http::status::bad_request, "malformed connection id");
}

std::optional<response> check_name(const call& c, const std::string& name, const char* what) {
    if (protocol::valid_name(name)) return std::nullopt;
    return json_error(c.r, http::status::bad_request, std::string("malformed ") + what + " name");
}

json_object view_json(const hub::connection_view& v) {
    const auto& i = v.info;
    json_object params, o;
    for (auto& [k, val] : i.params) params[k] = val;
    boost::json::array rooms;
    for (auto& n : v.rooms) rooms.emplace_back(n);
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
    return o;
}

boost::json::array members_json(const std::vector<hub::member>& ms) {
    boost::json::array a;
    for (const auto& m : ms)
        a.push_back(json_object{{"id", m.id},
                                {"user", m.user.empty() ? boost::json::value(nullptr) : boost::json::value(m.user)},
                                {"node", m.node}});
    return a;
}

}  // namespace wsgated::admin
