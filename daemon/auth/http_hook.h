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
#include "backend/http_pool.h"
#include "config/gateway_config.h"

namespace wsgated::hub {
class hub;
}

namespace wsgated::auth {

class http_hook final : public auth_hook {
public:
    // On the control thread, while a snapshot is built.
    http_hook(const config::auth_http_config& cfg, hub::hub& hub);
    ~http_hook() override;
    void check(const auth_input& in, auth_callback cb) override;

private:
    std::string cache_key(const auth_input& in) const;
    backend::http_request make_request(const auth_input& in) const;

    config::auth_http_config cfg_;
    hub::hub& hub_;
    std::vector<std::shared_ptr<backend::http_pool>> pools_;  // index = worker
    std::shared_ptr<auth_cache> cache_;  // null when cache_ttl is 0
};

// The hook's answer as an outcome (pure; unit-tested): 2xx → accepted with the identity in the
// JSON body (an empty body accepts an anonymous client), anything else → refused with that
// status and body; a 2xx whose body is not the expected JSON → 503, result "error".
auth_outcome read_hook_answer(const backend::http_response& res);

}  // namespace wsgated::auth
