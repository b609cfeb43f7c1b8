// auth_hook: the check a route's `auth` runs on a handshake, before the upgrade (SPEC §5):
// an HTTP hook (auth/http_hook) or a local JWT check (auth/jwt_hook). The handshake waits for
// the answer without blocking its worker.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/identity.h"
#include "core/upgrade_request.h"

namespace wsgated::auth {

struct auth_input {
    const core::upgrade_request& request;
    std::string_view remote;  // the client's address (after trusted proxies)
    unsigned worker;          // the worker the handshake runs on
    std::chrono::milliseconds time_left;  // of the handshake_timeout
};

// How an auth check ended: wsgate_auth_requests_total{result} and, for a refusal, the
// handshake_failures_total{reason} it counts as (one switch each, in auth_hook.cpp).
enum class auth_result { ok, denied, error, timeout, cache_hit };
std::string_view label(auth_result r);             // "ok", "denied", "error", "timeout", "cache_hit"
std::string_view failure_reason(auth_result r);    // "auth_denied", "auth_error", "auth_timeout"

struct auth_outcome {
    bool accepted = false;
    identity who;  // when accepted
    // When refused: the HTTP answer to the upgrade request (401, 403, … or 503).
    unsigned status = 401;
    std::string body = "unauthorized\n";
    std::vector<std::pair<std::string, std::string>> headers;  // Content-Type, WWW-Authenticate…
    auth_result result = auth_result::denied;
    std::string why;  // for the log only (rate-limited), never sent to the client
};

// Called once, on the handshake's worker; may be called before check() returns.
using auth_callback = std::function<void(auth_outcome&&)>;

class auth_hook {
public:
    virtual ~auth_hook() = default;
    virtual void check(const auth_input& in, auth_callback cb) = 0;
};

}  // namespace wsgated::auth
