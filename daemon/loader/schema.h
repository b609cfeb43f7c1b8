// schema: the one table of every configuration key — its path, value kind, default, bounds and
// a line of documentation (as Redis's static_configs[]).
//
// The schema walk (schema_walk.h) checks a file against it: unknown keys, wrong kinds, bad
// values, bounds, keys valid only for one `type`, required keys; absent keys take the default
// written here. docs/configuration.md renders this table row by row (schema_test checks that).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wsgated::config {

enum class value_kind {
    map,           // fixed keys, each its own entry ("server.limits")
    dict,          // keys chosen by the user, values described by "<path>.*" ("backends")
    list,          // items described by "<path>[]"
    string,        // any scalar text (`format` says what shape the loader then checks)
    integer,       // decimal, no sign
    boolean,       // true | false
    duration,      // units.h: 250ms, 30s, 5m, 1h, 0
    size,          // units.h: 512, 64KiB, 4MiB, 1GB
    enumeration,   // one of `allowed`
    auto_integer,  // "auto" or an integer
};

inline constexpr std::uint64_t no_limit = std::numeric_limits<std::uint64_t>::max();

struct schema_entry {
    // Dotted key path; "[]" stands for any list index, "*" for any key of a dict:
    // "server.listen[].address", "backends.*.url", "routes[].auth.token_from[]".
    std::string_view path;
    value_kind kind = value_kind::string;
    // As YAML text, applied when the key is absent: a scalar ("30s"), a list ("[a, b]") or "{}"
    // (an absent map is filled with its own defaults). "" = absent stays absent; text in
    // parentheses describes a default computed by the loader, e.g. "(host name)".
    std::string_view default_text;
    // integer, auto_integer and size: the value; duration: milliseconds.
    std::uint64_t min = 0;
    std::uint64_t max = no_limit;
    std::string_view allowed;  // enumeration: "json|text"
    std::string_view format;   // string: the expected shape, for docs ("host:port")
    std::string_view variant;  // valid only where the sibling `type` is this value ("http")
    bool required = false;     // (for the variant, if any)
    std::string_view refused;         // enumeration: a value refused with its own reason
    std::string_view refused_reason;  // why (`none` for JWT algorithms)
    std::string_view doc;             // one line, for docs/configuration.md
};

class schema {
public:
    static std::span<const schema_entry> entries();

    // The entry for a key path pattern, or nullptr (an unknown key).
    static const schema_entry* find(std::string_view pattern);

    // The entries of the keys of a map entry, in table order ("" = the top level).
    static std::vector<const schema_entry*> children(std::string_view parent);

    // Types one scalar (after ${VAR} expansion) by the entry's kind and checks its bounds.
    // `number` gets the value of integers, sizes, booleans (0/1), durations (ms) and
    // auto_integer (0 = auto); a string is any text.
    static bool parse_scalar(const schema_entry& e, std::string_view text, std::uint64_t& number,
                             std::string& error);

    // "" when `value` is within the entry's bounds, else a reason ("must be between 9 and 15").
    static std::string bounds_error(const schema_entry& e, std::uint64_t value);

    // For docs and error messages: "duration", "enum: json | text", "string (host:port)".
    static std::string type_text(const schema_entry& e);
    // "9..15", "≥ 1", "1ms..", "" when unbounded; in the entry's own units.
    static std::string bounds_text(const schema_entry& e);
    // The row docs/configuration.md has for this entry.
    static std::string doc_row(const schema_entry& e);
};

}  // namespace wsgated::config
