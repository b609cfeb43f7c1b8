// http_hook: SPEC §5's `http` auth: a GET to the hook URL with the route's forward_headers,
// WSGate-Path and WSGate-Remote-Addr, over the same pooled client as the http backend
// (backend/http_pool). 2xx with {"user","rooms","claims"} accepts; any other status goes back
// to the client with its body; a hook that is down, slow or answers malformed JSON is a 503.
//
// One per route and config snapshot; a pool per worker; answers optionally cached
// (auth/auth_cache), keyed on the request target and every forwarded header field: accepts
// always, the hook's 4xx (but 408, 429) with cache_negative, its 3xx/5xx and failures never.
#pragma once

#include <memory>
#include <vector>

#include "auth/auth_cache.h"
#include "auth/auth_hook.h"
#include "http_client/http_pool.h"
#include "config/gateway_config.h"

#include "core/per_worker.h"
#include "core/process_state.h"

namespace wsgated::auth {

class http_hook final : public auth_hook {
public:
    // On the control thread, while a snapshot is built.
    http_hook(const config::auth_http_config& cfg, core::process_state& state);
    void check(const auth_input& in, auth_callback cb) override;

private:
    std::string cache_key(const auth_input& in) const;
    http_client::http_request make_request(const auth_input& in) const;

    config::auth_http_config cfg_;
    core::process_state& state_;
    std::unique_ptr<core::per_worker<http_client::http_pool>> pools_;
    std::shared_ptr<auth_cache> cache_;  // null when cache_ttl is 0
};

// The hook's answer as an outcome (pure; unit-tested): 2xx → accepted with the identity in the
// JSON body (an empty body accepts an anonymous client), anything else → refused with that
// status and body; a 2xx whose body is not the expected JSON → 503, result "error".
auth_outcome read_hook_answer(const http_client::http_response& res);

}  // namespace wsgated::auth
