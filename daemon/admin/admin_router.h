// admin_router: what the admin listener answers (SPEC §6): GET /metrics, /healthz, /readyz,
// and the bearer-token gate in front of the control API under /v1.
//
// Runs on the control thread. Answers through a responder because control API calls are
// answered by the worker that holds the connection.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "admin/responses.h"
#include "config/config_diff.h"
#include "config/gateway_config.h"
#include "core/process_state.h"
#include "hub/delivery.h"

namespace wsgated::admin {

// What a reload did (POST /v1/reload, the same reload as SIGHUP): ok, or the file's errors
// ("file:line:column: key: reason"); the changed keys that take effect only after a restart.
struct reload_report {
    bool ok = false;
    bool dry_run = false;  // only said what would change
    bool draining = false;  // refused: the gateway is draining (503)
    std::vector<std::string> errors;
    std::vector<config::config_change> changes;  // what the file changed (config/config_diff)
    std::vector<std::string> restart_needed;
};

// Which endpoints a listener answers (SPEC §6): admin.listen (`main`) has them all, unless the
// current config sets admin.control_listen, whose listener (`control`) then has /v1 alone.
enum class admin_scope { main, control };

struct admin_state {
    core::process_state* state = nullptr;
    hub::delivery* delivery = nullptr;
    hub::reply_executor executor;  // where delivery answers: the admin listener's thread
    std::function<bool()> ready;   // listeners bound and not draining
    // The current snapshot's config: admin.token (empty: /v1 answers 403) and the limits, read
    // per request so that a reload applies to the next one.
    std::function<config::config_ptr()> config;
    std::function<reload_report(bool dry_run)> reload;  // runs on the admin listener's (control) thread
    admin_scope scope = admin_scope::main;
};

void route_admin(const request& req, const admin_state& state, responder done);

// On the request's header alone, before its body is read: the token gate's answer for a /v1
// call that may not pass, nothing otherwise. So an unauthenticated caller learns 401 (not 413)
// and costs no body buffer.
std::optional<response> refuse_before_body(const request& header, const admin_state& state);

// Constant-time comparison of a presented bearer token with the configured one (compares
// SHA-256 digests, so neither the content nor the length leaks through timing).
bool token_matches(std::string_view presented, std::string_view expected);

}  // namespace wsgated::admin
