// control_api: the calls under /v1 (SPEC §6), after the token gate: send to / close / show one
// connection, join and leave rooms, publish to a room, send to a user, broadcast.
//
// Runs on the control thread. Anything that touches a connection is posted to the worker that
// holds it (found through hub::connection_table), which answers through the responder; fan-out
// goes through hub::hub (one post per worker, one shared buffer).
#pragma once

#include "admin/admin_router.h"

namespace wsgated::admin {

void handle_control(const request& req, const admin_state& state, responder done);

// Connection ids are 22 characters of the base64url alphabet (ws/connection_id).
bool valid_connection_id(std::string_view id);
// Room and user names: 1..256 bytes, no control characters.
bool valid_name(std::string_view name);

}  // namespace wsgated::admin
