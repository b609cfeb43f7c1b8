// config_diff: what a reload of one configuration into another changes, key by key.
//
// One function answers it for the reload's log and report (POST /v1/reload), for
// `wsgated --check --diff`, and for the reload itself (which backends keep their instance). Marks
// (file positions) are not compared: moving a key in the file changes nothing. Key and
// certificate files are re-read by every reload whatever this says (their paths are compared,
// not their contents).
#pragma once

#include <string>
#include <vector>

#include "config/gateway_config.h"

namespace wsgated::config {

struct config_change {
    enum class kind { added, removed, changed };
    kind what = kind::changed;
    // "server.limits.send_queue", "server.listen[127.0.0.1:8443]", "backends.app",
    // "routes[/chat/{room}]", "routes (order)", "admin.token".
    std::string key;
};

std::vector<config_change> diff(const gateway_config& before, const gateway_config& after);

// "added", "removed", "changed".
const char* kind_name(config_change::kind k);

// Whether a backend built from `b` would be the same as one built from `a`: its own keys are
// equal. (The server limits it took when built — the largest answer an http backend reads, the
// largest frame from a stream backend — stay as they were: a change of send_queue or
// max_message_size alone must not move every connection to a new instance.)
bool same_backend(const backend_config& a, const backend_config& b);

// How listeners are known across files: "[ADDRESS]", or "[ADDRESS#n]" for the n-th listener
// with that address ("127.0.0.1:0" may be written twice). server/listener_set matches by it.
std::vector<std::string> listener_keys(const std::vector<listen_config>& all);

// The keys a reload does not apply: they take effect after a restart.
bool needs_restart(const std::string& key);

}  // namespace wsgated::config
