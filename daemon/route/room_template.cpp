// room_template: see room_template.h.
#include "route/room_template.h"

namespace wsgated::route {
namespace {

std::optional<std::string> value_of(std::string_view name, const params& p, std::string_view user,
                                    const std::map<std::string, std::string>& claims) {
    if (name == "user") return user.empty() ? std::nullopt : std::optional<std::string>(user);
    if (name.starts_with("claims.")) {
        auto it = claims.find(std::string(name.substr(7)));
        if (it == claims.end() || it->second.empty()) return std::nullopt;
        return it->second;
    }
    for (const auto& [k, v] : p)
        if (k == name) return v;
    return std::nullopt;
}

}  // namespace

std::optional<std::string> expand_room(std::string_view tmpl, const params& p, std::string_view user,
                                       const std::map<std::string, std::string>& claims) {
    std::string out;
    std::size_t pos = 0;
    while (pos < tmpl.size()) {
        auto open = tmpl.find('{', pos);
        if (open == std::string_view::npos) { out.append(tmpl.substr(pos)); break; }
        auto close = tmpl.find('}', open);
        if (close == std::string_view::npos) return std::nullopt;  // the loader refuses these
        out.append(tmpl.substr(pos, open - pos));
        auto v = value_of(tmpl.substr(open + 1, close - open - 1), p, user, claims);
        if (!v) return std::nullopt;
        out += *v;
        pos = close + 1;
    }
    return out;
}

}  // namespace wsgated::route
