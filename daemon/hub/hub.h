// hub: the one place for state shared between connections and workers (STYLE habit 6).
//
// Owned by server::server for the process's life and handed by reference to listeners,
// handshakes and sessions. Today it holds the connection limits and the metrics; the
// connection table, rooms and the user index join it with the control API.
#pragma once

#include "metrics/gateway_metrics.h"
#include "net/conn_limits.h"

namespace wsgated::hub {

struct hub {
    metrics::gateway_metrics metrics;
    net::conn_limits limits;
};

}  // namespace wsgated::hub
