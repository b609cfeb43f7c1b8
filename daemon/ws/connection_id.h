// connection_id: a new connection's id: 128 bits from OpenSSL's CSPRNG, base64url without
// padding (22 characters), so ids are unique across a cluster and cannot be guessed.
#pragma once

#include <string>

namespace wsgated::ws {

std::string make_connection_id();

}  // namespace wsgated::ws
