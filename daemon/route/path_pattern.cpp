// path_pattern: see path_pattern.h.
#include "route/path_pattern.h"
#include "text/hex.h"

#include <algorithm>

#include "protocol/utf8.h"
#include "text/split.h"

namespace wsgated::route {
namespace {

bool valid_param_name(std::string_view n) {
    if (n.empty()) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

}  // namespace

bool percent_decode_segment(std::string_view in, std::string& out, bool allow_slash) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') { out.push_back(in[i]); continue; }
        if (i + 2 >= in.size()) return false;  // needs two hex digits after '%'
        int hi = text::hex_value(in[i + 1]), lo = text::hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        char c = static_cast<char>(hi * 16 + lo);
        if ((c == '/' && !allow_slash) || c == '\0') return false;
        out.push_back(c);
        i += 2;
    }
    // Values travel as JSON text (WSGate-Params, the stream's connect event) and as room names.
    return protocol::valid_utf8(out);
}

namespace {

// Splits "/a/b" into "a", "b"; "/" is one empty segment.
template <class F>
void for_each_segment(std::string_view path, F f) {
    text::for_each_field(path.substr(1), '/', f);
}

}  // namespace

bool path_pattern::parse(std::string_view text, path_pattern& out, std::string& error) {
    if (text.empty() || text.front() != '/') { error = "must start with '/'"; return false; }
    if (text.find_first_of("?#") != std::string_view::npos) {
        error = "must not contain '?' or '#'"; return false;
    }
    path_pattern p;
    p.text_ = std::string(text);
    bool ok = true;
    for_each_segment(text, [&](std::string_view seg) {
        if (!ok) return;
        bool opens = seg.find('{') != std::string_view::npos;
        bool closes = seg.find('}') != std::string_view::npos;
        if (!opens && !closes) { p.segments_.push_back({false, std::string(seg)}); return; }
        if (seg.size() < 2 || seg.front() != '{' || seg.back() != '}') {
            error = "a parameter must be a whole segment, like /{name}"; ok = false; return;
        }
        std::string_view name = seg.substr(1, seg.size() - 2);
        if (!valid_param_name(name)) {
            error = "bad parameter name '" + std::string(name) + "' (letters, digits, _)";
            ok = false; return;
        }
        if (std::find(p.names_.begin(), p.names_.end(), name) != p.names_.end()) {
            error = "duplicate parameter '" + std::string(name) + "'"; ok = false; return;
        }
        p.names_.emplace_back(name);
        p.segments_.push_back({true, std::string(name)});
    });
    if (!ok) return false;
    out = std::move(p);
    return true;
}

bool path_pattern::match(std::string_view path, params& out) const {
    if (path.empty() || path.front() != '/') return false;
    std::size_t i = 0;
    bool ok = true;
    params found;
    for_each_segment(path, [&](std::string_view seg) {
        if (!ok) return;
        if (i >= segments_.size()) { ok = false; return; }
        const segment& s = segments_[i++];
        if (!s.is_param) { ok = seg == s.value; return; }
        std::string value;
        if (seg.empty() || !percent_decode_segment(seg, value)) { ok = false; return; }
        found.emplace_back(s.value, std::move(value));
    });
    if (!ok || i != segments_.size()) return false;
    out = std::move(found);
    return true;
}

}  // namespace wsgated::route
