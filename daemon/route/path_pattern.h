// path_pattern: one route path such as "/chat/{room}", compiled into literal and parameter
// segments. Built once per route when a config snapshot is made; matching does not allocate
// unless it succeeds with parameters.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsgated::route {

using params = std::vector<std::pair<std::string, std::string>>;

// Percent-decodes one path segment; false for a bad escape, a decoded NUL, (unless allowed) a
// decoded '/', which would let a route parameter smuggle path structure into backends, or a
// result that is not UTF-8 (backends receive parameters as JSON text).
bool percent_decode_segment(std::string_view in, std::string& out, bool allow_slash = false);

class path_pattern {
public:
    // Parses a pattern. On error returns false and sets `error` to a reason, e.g.
    // "must start with '/'", "empty parameter name", "duplicate parameter 'room'".
    static bool parse(std::string_view text, path_pattern& out, std::string& error);

    // Matches a request path (no query string). Each {name} matches exactly one non-empty
    // segment; its value is percent-decoded. Returns false on no match.
    bool match(std::string_view path, params& out) const;

    const std::string& text() const { return text_; }
    const std::vector<std::string>& param_names() const { return names_; }
    // Literal-only patterns win over parametrised ones when both match.
    bool has_params() const { return !names_.empty(); }

private:
    struct segment {
        bool is_param = false;
        std::string value;  // literal text, or the parameter's name
    };
    std::string text_;
    std::vector<segment> segments_;
    std::vector<std::string> names_;
};

}  // namespace wsgated::route
