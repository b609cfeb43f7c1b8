// control_api: the calls under /v1 (SPEC §6), after the token gate: send to / close / show one
// connection, join and leave rooms, publish to a room, send to a user, broadcast, the member
// lists, and the user-wide join/leave/close.
//
// Runs on the admin listener's thread. Every call goes through hub::delivery, which finds the
// target wherever it is and answers on this thread (admin_state::executor); control_call holds
// what the calls share (parsing, checks, the outcome → status mapping).
#pragma once

#include "admin/admin_router.h"

namespace wsgated::admin {

void handle_control(const request& req, const admin_state& state, responder done);

}  // namespace wsgated::admin
