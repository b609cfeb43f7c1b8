// identity: who an auth check says a client is. Produced by auth/http_hook (from the hook's
// JSON answer) or auth/jwt_verifier (from the token's claims), carried by the session for life:
// `user` goes to backends as WSGate-User and indexes /v1/users/{user}; `rooms` are joined on
// connect; `claims` fill {claims.NAME} in room templates and the connect event's body.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace wsgated::auth {

struct identity {
    std::string user;                 // empty: anonymous (no `user`/`sub`)
    std::vector<std::string> rooms;   // extra rooms to join
    // Scalar claims as text (strings as is, numbers and booleans as JSON writes them), for
    // {claims.NAME} in room templates. Nested objects and arrays are left out here.
    std::map<std::string, std::string> claims;
    std::string claims_json = "{}";   // every claim, as a JSON object (connect event, /v1 info)
};

// A user or room name goes into an HTTP header (WSGate-User) and the control API's paths: 1 to
// 256 bytes of UTF-8 without control characters (protocol::valid_name's bound). Otherwise a name
// like "alice\r\nX-Admin: 1" would write a header of its own into every backend request, and
// a 300-byte one would be a user no /v1 call can address.
bool usable_name(std::string_view s);

// Fills who.claims_json with the whole object and who.claims with each scalar claim that can be
// part of a room name (for {claims.NAME}; a template naming any other claim joins nothing, as
// for a missing one). Numbers are written as JavaScript writes them (2.5, not 2.5E0).
void set_claims(identity& who, const boost::json::object& claims);

}  // namespace wsgated::auth
