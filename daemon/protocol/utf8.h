// utf8: strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF), for text that wsgated itself turns into WebSocket text frames (control API
// bodies): a text frame with invalid UTF-8 would make every conforming client fail with 1007.
#pragma once

#include <string_view>

namespace wsgated::protocol {

bool valid_utf8(std::string_view s);

// Whether `s`, valid UTF-8 up to its last lead byte, ends before that sequence is complete
// ("caf\xC3"). What a validator that checks as bytes arrive must still check at the end.
bool ends_mid_sequence(std::string_view s);

}  // namespace wsgated::protocol
