// hub: the one place for state shared between connections and workers (STYLE habit 6).
//
// Owned by server::server for the process's life and handed by reference to listeners,
// handshakes and sessions. Today it holds the connection limits; the connection table, rooms
// and the user index join it with the control API.
#pragma once

#include "net/conn_limits.h"

namespace wsgated::hub {

struct hub {
    net::conn_limits limits;
};

}  // namespace wsgated::hub
