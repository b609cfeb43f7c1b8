// admin_router: see admin_router.h.
#include "admin/admin_router.h"

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "metrics/exposition.h"
#include "ws/upgrade.h"

namespace wsgated::admin {
namespace {

response make(const request& req, http::status s, std::string body, std::string_view type) {
    response res{s, req.version()};
    res.set(http::field::server, "wsgated/" WSGATED_VERSION);
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

response json(const request& req, http::status s, const boost::json::value& v) {
    return make(req, s, boost::json::serialize(v) + "\n", "application/json");
}

response json_error(const request& req, http::status s, std::string_view message) {
    return json(req, s, boost::json::object{{"error", message}});
}

bool is_read(const request& req) {
    return req.method() == http::verb::get || req.method() == http::verb::head;
}

response method_not_allowed(const request& req) {
    auto res = json_error(req, http::status::method_not_allowed, "use GET");
    res.set(http::field::allow, "GET, HEAD");
    return res;
}

response v1(const request& req, const admin_state& state) {
    if (state.token.empty())
        return json_error(req, http::status::forbidden,
                          "the control API is disabled: set admin.token in the configuration");
    std::string_view auth = req[http::field::authorization];
    constexpr std::string_view bearer = "Bearer ";
    if (auth.size() <= bearer.size() || !boost::beast::iequals(auth.substr(0, bearer.size()), bearer) ||
        !token_matches(auth.substr(bearer.size()), state.token)) {
        auto res = json_error(req, http::status::unauthorized, "missing or wrong bearer token");
        res.set(http::field::www_authenticate, "Bearer realm=\"wsgated\"");
        return res;
    }
    return json_error(req, http::status::not_implemented,
                      "the control API is not available in this version of wsgated");
}

}  // namespace

bool token_matches(std::string_view presented, std::string_view expected) {
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
    SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

response route_admin(const request& req, const admin_state& state) {
    auto path = ws::target_path(req.target());
    if (path == "/v1" || path.starts_with("/v1/")) return v1(req, state);
    if (path == "/metrics") {
        if (!is_read(req)) return method_not_allowed(req);
        return make(req, http::status::ok, state.hub->metrics.scrape(), metrics::text_content_type);
    }
    if (path == "/healthz") {
        if (!is_read(req)) return method_not_allowed(req);
        return json(req, http::status::ok, boost::json::object{{"status", "ok"}});
    }
    if (path == "/readyz") {
        if (!is_read(req)) return method_not_allowed(req);
        bool ready = state.ready && state.ready();
        return json(req, ready ? http::status::ok : http::status::service_unavailable,
                    boost::json::object{{"status", ready ? "ready" : "not ready"}});
    }
    return json_error(req, http::status::not_found, "no such endpoint");
}

}  // namespace wsgated::admin
