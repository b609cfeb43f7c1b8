// Fuzz target: route patterns and request paths (first line: pattern, rest: path).
#include <cstdint>
#include <string>

#include "route/path_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto nl = in.find('\n');
    std::string_view pattern = in.substr(0, nl), path = nl == std::string_view::npos ? "/" : in.substr(nl + 1);
    wsgated::route::path_pattern p;
    std::string error;
    if (!wsgated::route::path_pattern::parse(pattern, p, error)) return 0;
    wsgated::route::params params;
    if (p.match(path, params) && params.size() != p.param_names().size()) __builtin_trap();
    return 0;
}
