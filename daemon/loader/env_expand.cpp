// env_expand: see env_expand.h.
#include "loader/env_expand.h"

namespace wsgated::config {
namespace {

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

bool valid_name(std::string_view name) {
    if (name.empty() || !name_start(name.front())) return false;
    for (char c : name)
        if (!name_char(c)) return false;
    return true;
}

// `ref` is what stands between "${" and "}".
bool expand_reference(std::string_view ref, const env_lookup& env, std::string& out,
                      std::string& error) {
    std::size_t sep = ref.find(":-");
    std::string_view name = ref.substr(0, sep);
    if (!valid_name(name)) {
        error = "bad variable name in '${" + std::string(ref) +
                "}' (letters, digits and '_', not starting with a digit)";
        return false;
    }
    std::optional<std::string> value = env ? env(std::string(name)) : std::nullopt;
    if (sep != std::string_view::npos && (!value || value->empty()))
        value = std::string(ref.substr(sep + 2));
    if (value) out += *value;
    return true;
}

}  // namespace

bool expand_env(std::string_view text, const env_lookup& env, std::string& out,
                std::string& error) {
    out.clear();
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '$' || i + 1 == text.size()) { out.push_back(c); continue; }
        char next = text[i + 1];
        if (next == '$') { out.push_back('$'); ++i; continue; }
        if (next != '{') { out.push_back(c); continue; }
        std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            error = "unterminated '${' in '" + std::string(text) + "'";
            return false;
        }
        if (!expand_reference(text.substr(i + 2, close - i - 2), env, out, error)) return false;
        i = close;
    }
    return true;
}

}  // namespace wsgated::config
