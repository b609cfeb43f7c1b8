// http_hook: see http_hook.h.
#include "auth/http_hook.h"


#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/range/iterator_range.hpp>
#include <spdlog/spdlog.h>


namespace wsgated::auth {
namespace {

namespace json = boost::json;

auth_outcome unavailable(auth_result result, std::string why) {
    auth_outcome o;
    o.why = std::move(why);
    o.status = 503;
    o.body = "authentication unavailable\n";
    o.headers = {{"Retry-After", "1"}};
    o.result = result;
    return o;
}

bool read_identity(const json::object& o, identity& who) {
    if (auto* u = o.if_contains("user"); u && !u->is_null()) {
        if (!u->is_string() || !usable_name(u->get_string())) return false;
        who.user = std::string(u->get_string());
    }
    if (auto* r = o.if_contains("rooms"); r && !r->is_null()) {
        if (!r->is_array()) return false;
        for (const auto& room : r->get_array()) {
            if (!room.is_string() || !usable_name(room.get_string())) return false;
            who.rooms.emplace_back(room.get_string());
        }
    }
    if (auto* c = o.if_contains("claims"); c && !c->is_null()) {
        if (!c->is_object()) return false;
        set_claims(who, c->get_object());
    }
    return true;
}

}  // namespace

auth_outcome read_hook_answer(const http_client::http_response& res) {
    unsigned status = res.result_int();
    if (status < 200 || status >= 300) {
        auth_outcome o;  // the hook's refusal, passed on as it is
        o.status = status;
        o.body = res.body();
        o.why = "hook answered " + std::to_string(status);
        for (auto f : {boost::beast::http::field::content_type, boost::beast::http::field::www_authenticate,
                       boost::beast::http::field::location, boost::beast::http::field::retry_after}) {
            if (auto it = res.find(f); it != res.end())
                o.headers.emplace_back(std::string(it->name_string()), std::string(it->value()));
        }
        return o;
    }
    auth_outcome o;
    o.accepted = true;
    o.result = auth_result::ok;
    if (res.body().find_first_not_of(" \t\r\n") == std::string::npos) return o;  // anonymous
    boost::system::error_code ec;
    json::value v = json::parse(res.body(), ec);
    if (ec || !v.is_object() || !read_identity(v.get_object(), o.who)) return unavailable(auth_result::error, "hook answer is not the JSON expected");
    return o;
}

http_hook::http_hook(const config::auth_http_config& cfg, core::process_state& state) : cfg_(cfg), state_(state) {
    http_client::http_pool_options o;
    o.endpoint = cfg.endpoint;
    o.timeout = cfg.timeout.count() > 0 ? cfg.timeout : std::chrono::milliseconds(5000);
    o.body_limit = 64 * 1024;
    // Hook calls share one process-wide bound, like a backend's (64: a hook is a web app).
    auto budget = std::make_shared<http_client::connection_budget>(64);
    pools_ = std::make_unique<core::per_worker<http_client::http_pool>>(state, [&](unsigned, auto& ioc) {
        auto pool = std::make_shared<http_client::http_pool>(ioc, o, budget);
        budget->add_pool(ioc, pool);
        return pool;
    });
    if (cfg.cache_ttl.count() > 0) cache_ = std::make_shared<auth_cache>(cfg.cache_size, cfg.cache_ttl);
}

// What the hook sees: the path (with its query) and every field of the forwarded headers, as
// make_request sends them (a header sent twice is two fields: keying on the first alone would
// hand one client's answer to another who shares only that first field). Each part is
// length-prefixed, so no two different requests make the same key. The remote address is left
// out so that one user's answer serves all their connections.
std::string http_hook::cache_key(const auth_input& in) const {
    std::string key;
    auto add = [&key](std::string_view part) {
        key += std::to_string(part.size());
        key += ':';
        key += part;
    };
    add(in.request.target());
    for (const auto& name : cfg_.forward_headers) {
        key += '|';
        for (const auto& f : boost::make_iterator_range(in.request.equal_range(name))) add(f.value());
    }
    return key;
}

http_client::http_request http_hook::make_request(const auth_input& in) const {
    http_client::http_request req{boost::beast::http::verb::get, cfg_.endpoint.target, 11};
    for (const auto& name : cfg_.forward_headers)
        for (const auto& f : boost::make_iterator_range(in.request.equal_range(name))) req.insert(name, f.value());
    req.set("WSGate-Path", in.request.target());
    req.set("WSGate-Remote-Addr", in.remote);
    return req;
}

void http_hook::check(const auth_input& in, auth_callback cb) {
    std::string key = cache_ ? cache_key(in) : std::string();
    if (cache_) {
        if (auto hit = cache_->get(key, auth_cache::clock::now())) {
            hit->result = auth_result::cache_hit;
            return cb(std::move(*hit));
        }
    }
    auto timeout = cfg_.timeout.count() > 0 ? std::min(cfg_.timeout, in.time_left) : in.time_left;
    if (timeout.count() <= 0) return cb(unavailable(auth_result::timeout, "no time left for the hook"));
    // The callback may run after a reload destroyed this hook: it holds the cache, not `this`.
    pools_->on(in.worker)->submit(
        make_request(in),
        [cb = std::move(cb), cache = cache_, key = std::move(key), negative = cfg_.cache_negative](
            http_client::http_result&& r) {
            if (r.failure != http_client::http_failure::none) {
                bool slow = r.failure == http_client::http_failure::timeout ||
                            r.failure == http_client::http_failure::overloaded;
                return cb(unavailable(slow ? auth_result::timeout : auth_result::error,
                                      slow ? "hook did not answer in time" : "hook unreachable or broken"));
            }
            auto o = read_hook_answer(r.response);
            // Refusals (cache_negative) are the hook's 4xx, but not 408 and 429, which say "try
            // again"; its 5xx are errors and, like failures, never kept.
            bool refusal = o.status >= 400 && o.status < 500 && o.status != 408 && o.status != 429;
            bool keep = o.accepted || (negative && o.result == auth_result::denied && refusal);
            if (cache && keep) cache->put(key, o, auth_cache::clock::now());
            cb(std::move(o));
        },
        timeout);
}

}  // namespace wsgated::auth
