// admin_router: see admin_router.h.
#include "admin/admin_router.h"

#include <boost/beast/core/string.hpp>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin/control_api.h"
#include "metrics/exposition.h"
#include "text/http_text.h"

namespace wsgated::admin {
namespace {

bool is_read(const request& req) {
    return req.method() == http::verb::get || req.method() == http::verb::head;
}

// The token gate: an answer when the caller may not pass, nothing when it may.
std::optional<response> refuse_v1(const request& req, const admin_state& state) {
    auto r = reply_to::of(req);
    auto cfg = state.config();
    const std::string& token = cfg->admin.token;
    if (token.empty())
        return json_error(r, http::status::forbidden,
                          "the control API is disabled: set admin.token in the configuration");
    std::string_view auth = req[http::field::authorization];
    constexpr std::string_view bearer = "Bearer ";
    if (auth.size() <= bearer.size() || !boost::beast::iequals(auth.substr(0, bearer.size()), bearer) ||
        !token_matches(auth.substr(bearer.size()), token)) {
        auto res = json_error(r, http::status::unauthorized, "missing or wrong bearer token");
        res.set(http::field::www_authenticate, "Bearer realm=\"wsgated\"");
        return res;
    }
    return std::nullopt;
}

response read_endpoint(const request& req, const admin_state& state, std::string_view path) {
    auto r = reply_to::of(req);
    if (!is_read(req)) return method_not_allowed(r, "GET, HEAD");
    if (path == "/metrics")
        return make_response(r, http::status::ok, state.state->metrics.scrape(), metrics::text_content_type);
    if (path == "/healthz") return json(r, http::status::ok, boost::json::object{{"status", "ok"}});
    // Not draining, listeners bound, and the cluster bus (if any) reaches the other nodes.
    bool ready = state.ready && state.ready() && state.delivery->bus_connected();
    return json(r, ready ? http::status::ok : http::status::service_unavailable,
                boost::json::object{{"status", ready ? "ready" : "not ready"}});
}

bool is_v1(std::string_view path) { return path == "/v1" || path.starts_with("/v1/"); }

// Read from the current config per request, so that a reload adding or removing
// control_listen moves /v1 at once.
bool serves_v1(const admin_state& state) {
    return state.scope == admin_scope::control || !state.config()->admin.control_listen;
}
bool serves_health(const admin_state& state) { return state.scope == admin_scope::main; }

}  // namespace

bool token_matches(std::string_view presented, std::string_view expected) {
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
    SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

std::optional<response> refuse_before_body(const request& header, const admin_state& state) {
    if (!is_v1(text::target_path(header.target())) || !serves_v1(state)) return std::nullopt;
    return refuse_v1(header, state);
}

void route_admin(const request& req, const admin_state& state, responder done) {
    auto path = text::target_path(req.target());
    if (is_v1(path) && serves_v1(state)) {
        if (auto refused = refuse_v1(req, state)) return done(std::move(*refused));
        return handle_control(req, state, std::move(done));
    }
    if ((path == "/metrics" || path == "/healthz" || path == "/readyz") && serves_health(state))
        return done(read_endpoint(req, state, path));
    // Said, so that a caller on the wrong listener learns where to go.
    std::string_view why = is_v1(path)                  ? "the control API (/v1) is served on admin.control_listen"
                           : state.scope == admin_scope::control ? "this listener serves only the control API (/v1)"
                                                                 : "no such endpoint";
    done(json_error(reply_to::of(req), http::status::not_found, why));
}

}  // namespace wsgated::admin
