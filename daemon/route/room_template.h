// room_template: a route's `rooms` entry ("room:{room}", "tenant:{claims.tenant}", "{user}")
// expanded for one connection when it opens.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "route/path_pattern.h"

namespace wsgated::route {

// nullopt when a placeholder has no value for this connection (no user, a missing claim): the
// connection then does not join that room. Claims are looked up as "claims.<name>".
std::optional<std::string> expand_room(std::string_view tmpl, const params& p, std::string_view user,
                                       const std::map<std::string, std::string>& claims = {});

}  // namespace wsgated::route
