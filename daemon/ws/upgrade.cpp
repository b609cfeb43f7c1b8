// upgrade: see upgrade.h. The order of the checks is the order of docs/protocol.md: Host, path,
// upgrade, version, key, origin, subprotocol — so a client always learns the first thing it got
// wrong. Every request Beast's accept would refuse is refused here first, with a reason
// counted, before an auth hook is asked.
#include "ws/upgrade.h"

#include <algorithm>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include "text/http_text.h"

namespace wsgated::ws {
namespace {

namespace beast = boost::beast;

upgrade_decision refuse(http::status s, std::string_view reason, std::string body) {
    upgrade_decision d;
    d.status = s;
    d.reason = reason;
    d.body = std::move(body);
    return d;
}

bool has_token(const upgrade_request& req, http::field f, std::string_view token) {
    for (auto it = req.find(f); it != req.end() && it->name() == f; ++it) {
        for (auto t : http::token_list(it->value()))
            if (beast::iequals(t, token)) return true;
    }
    return false;
}

// RFC 6455 §4.1: the key is the base64 of 16 random bytes, so exactly 24 characters.
bool valid_key(std::string_view key) {
    if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
    unsigned char out[18];
    // decode() stops at the first character outside the alphabet: 16 bytes means all 22 were
    // valid.
    auto r = beast::detail::base64::decode(out, key.data(), 22);
    return r.first == 16;
}

bool origin_allowed(const config::route_config& rc, std::string_view origin) {
    if (!rc.origins) return true;
    return std::any_of(rc.origins->begin(), rc.origins->end(),
                       [&](const std::string& o) { return beast::iequals(o, origin); });
}

// The first protocol the client offers that the route supports (client preference, as `ws`).
std::string pick_subprotocol(const upgrade_request& req, const config::route_config& rc) {
    for (auto it = req.find(http::field::sec_websocket_protocol);
         it != req.end() && it->name() == http::field::sec_websocket_protocol; ++it) {
        for (auto offered : http::token_list(it->value())) {
            auto match = std::find(rc.subprotocols.begin(), rc.subprotocols.end(), offered);
            if (match != rc.subprotocols.end()) return *match;
        }
    }
    return {};
}

}  // namespace

bool is_websocket_upgrade(const upgrade_request& req) {
    return req.method() == http::verb::get && req.version() >= 11 &&
           has_token(req, http::field::connection, "upgrade") &&
           has_token(req, http::field::upgrade, "websocket");
}

upgrade_decision decide_upgrade(const upgrade_request& req, const route::router& routes) {
    // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is answered 400.
    if (req.version() >= 11 && req.count(http::field::host) != 1)
        return refuse(http::status::bad_request, "bad_host", "an HTTP/1.1 request needs exactly one Host field\n");
    upgrade_decision d;
    d.route = routes.match(text::target_path(req.target()), d.params);
    if (!d.route) return refuse(http::status::not_found, "not_found", "no route for this path\n");
    if (!is_websocket_upgrade(req)) {
        auto r = refuse(http::status::upgrade_required, "upgrade_required", "this path needs a WebSocket upgrade\n");
        r.headers.emplace_back("Upgrade", "websocket");
        r.headers.emplace_back("Sec-WebSocket-Version", "13, 8");
        return r;
    }
    // RFC 6455 §11.3.1 and §11.3.5: the key and the version must not appear more than once.
    auto version = req[http::field::sec_websocket_version];
    if (req.count(http::field::sec_websocket_version) > 1) {
        auto r = refuse(http::status::bad_request, "version", "more than one Sec-WebSocket-Version\n");
        r.headers.emplace_back("Sec-WebSocket-Version", "13, 8");
        return r;
    }
    if (version == "13") d.version = 13;
    else if (version == "8") d.version = 8;
    else {
        auto r = refuse(http::status::upgrade_required, "version", "unsupported Sec-WebSocket-Version\n");
        r.headers.emplace_back("Sec-WebSocket-Version", "13, 8");
        return r;
    }
    if (req.count(http::field::sec_websocket_key) > 1)
        return refuse(http::status::bad_request, "bad_key", "more than one Sec-WebSocket-Key\n");
    if (!valid_key(req[http::field::sec_websocket_key]))
        return refuse(http::status::bad_request, "bad_key", "missing or malformed Sec-WebSocket-Key\n");
    const auto& rc = *d.route->config;
    // HyBi-08..12 browsers sent their origin as Sec-WebSocket-Origin.
    auto origin = req[http::field::origin];
    if (d.version == 8 && origin.empty()) origin = req["Sec-WebSocket-Origin"];
    if (!origin_allowed(rc, origin)) return refuse(http::status::forbidden, "origin", "origin not allowed\n");
    if (!rc.subprotocols.empty()) {
        d.subprotocol = pick_subprotocol(req, rc);
        if (d.subprotocol.empty())
            return refuse(http::status::bad_request, "subprotocol", "no supported subprotocol offered\n");
    }
    return d;
}

}  // namespace wsgated::ws
