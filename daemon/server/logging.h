// logging: sets up the process logger (spdlog, to stderr) from server.log.
//
// Lines are JSON objects ({"time","level","msg"}) or text ("<time> <level> <msg>"). Payloads are
// never logged. Log calls on a hot path must be guarded by the level (spdlog does this for us
// as long as no argument is formatted before the call).
#pragma once

#include "config/gateway_config.h"

namespace wsgated::server {

// Returns false (and leaves the logger unchanged) for an unknown level name.
bool setup_logging(const config::log_config& cfg);

// A reload's server.log: the same logger takes the new level and format (any thread).
bool reconfigure_logging(const config::log_config& cfg);

}  // namespace wsgated::server
