// split: the fields of a string separated by one delimiter character, empty fields kept
// ("a,,b" → "a", "", "b"; "" → one empty field), as views into the input: no copies. Shared by
// the parsers of paths, header lists and PROXY lines, which each used to loop by hand.
#pragma once

#include <string_view>
#include <vector>

namespace wsgated::text {

template <class F>
void for_each_field(std::string_view s, char delim, F&& f) {
    for (std::size_t pos = 0;;) {
        auto at = s.find(delim, pos);
        f(s.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
        if (at == std::string_view::npos) return;
        pos = at + 1;
    }
}

inline std::vector<std::string_view> split(std::string_view s, char delim) {
    std::vector<std::string_view> out;
    for_each_field(s, delim, [&](std::string_view field) { out.push_back(field); });
    return out;
}

}  // namespace wsgated::text
