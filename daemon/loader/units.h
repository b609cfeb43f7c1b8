// units: the text forms of durations ("250ms", "30s", "5m", "1h", "0") and sizes ("512",
// "64KiB", "4MiB", "1GB") in the configuration file, parsed and printed.
//
// Used by the schema walk (config values), the schema table (defaults and bounds) and the docs
// renderer. Errors are values: a false return and a reason fit for "key.path: reason".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace wsgated::config {

// ms, s, m or h after a non-negative integer; "0" alone needs no unit. A bare non-zero number
// is refused: "30" could mean seconds or milliseconds, and guessing wrong is silent.
bool parse_duration(std::string_view text, duration& out, std::string& error);

// Bytes, with an optional unit: B, KB/MB/GB (1000-based) or KiB/MiB/GiB (1024-based).
bool parse_size(std::string_view text, std::uint64_t& out, std::string& error);

// The shortest exact form in the largest unit: 90000ms → "90s", 1500ms → "1500ms", 0 → "0".
std::string format_duration(duration d);

// The largest binary unit that divides exactly: 1048576 → "1MiB", 1000 → "1000".
std::string format_size(std::uint64_t bytes);

}  // namespace wsgated::config
