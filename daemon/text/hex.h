// hex: the value of one hexadecimal digit, or -1. Shared by the path's percent-decoding
// (route/path_pattern) and the TLS key log's secrets (net/tls_key_log).
#pragma once

namespace wsgated::text {

constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace wsgated::text
