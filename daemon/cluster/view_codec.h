// view_codec: a connection's view (GET /v1/connections/{id}) as JSON, so that the node holding
// the connection can answer another node's view request through Redis. Both ends are wsgated;
// decode() still checks every field, since what comes out of Redis is input like any other.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hub/answers.h"

namespace wsgated::cluster {

std::string encode_view(const hub::connection_view& v);
std::optional<hub::connection_view> decode_view(std::string_view json);

}  // namespace wsgated::cluster
