// Fuzz target: net::parse_proxy_header on arbitrary bytes (what a client may send first).
#include <cstdint>
#include <string>

#include "net/proxy_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    wsgated::net::proxy_header h;
    std::string error;
    auto r = wsgated::net::parse_proxy_header(in, h, error);
    // Invariants we own: a complete header lies inside the input and within the bound.
    if (r == wsgated::net::proxy_result::complete && (h.length > size || h.length > wsgated::net::max_proxy_header))
        __builtin_trap();
    return 0;
}
