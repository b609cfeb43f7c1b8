// identity: who an auth check says a client is. Produced by auth/http_hook (from the hook's
// JSON answer) or auth/jwt_verifier (from the token's claims), carried by the session for life:
// `user` goes to backends as WSGate-User and indexes /v1/users/{user}; `rooms` are joined on
// connect; `claims` fill {claims.NAME} in room templates and the connect event's body.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace wsgated::auth {

struct identity {
    std::string user;                 // empty: anonymous (no `user`/`sub`)
    std::vector<std::string> rooms;   // extra rooms to join
    // Scalar claims as text (strings as is, numbers and booleans as JSON writes them), for
    // {claims.NAME} in room templates. Nested objects and arrays are left out here.
    std::map<std::string, std::string> claims;
    std::string claims_json = "{}";   // every claim, as a JSON object (connect event, /v1 info)
};

}  // namespace wsgated::auth
