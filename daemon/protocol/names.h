// names: what a room or user name and a close that an application asks for may be, checked the
// same way wherever they come from (the control API, http backend headers, stream frames).
#pragma once

#include <string_view>

namespace wsgated::protocol {

// Room and user names: 1..256 bytes, no control characters.
bool valid_name(std::string_view name);

// A close a backend or the control API may ask for: code 1000 or an application code
// 3000-4999 (RFC 6455 §7.4.2), and a reason of valid UTF-8 that fits a close frame (123 bytes).
inline constexpr bool valid_app_close_code(unsigned code) { return code == 1000 || (code >= 3000 && code <= 4999); }
bool valid_close_reason(std::string_view reason);

}  // namespace wsgated::protocol
