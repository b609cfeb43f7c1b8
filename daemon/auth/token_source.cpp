// token_source: see token_source.h.
#include "auth/token_source.h"

#include "text/http_text.h"
#include "text/split.h"

namespace wsgated::auth {
namespace {

namespace http = boost::beast::http;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Form-urlencoded decoding: %XX escapes, `+` is a space. nullopt for a bad escape.
std::optional<std::string> form_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') { out.push_back(' '); continue; }
        if (s[i] != '%') { out.push_back(s[i]); continue; }
        int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::optional<std::string> from_query(std::string_view target, std::string_view name) {
    std::size_t q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    std::string_view query = target.substr(q + 1);
    query = query.substr(0, query.find('#'));  // a fragment is never sent, but be safe
    std::optional<std::string> found;
    bool done = false;
    text::for_each_field(query, '&', [&](std::string_view pair) {
        if (done) return;
        std::size_t eq = pair.find('=');
        std::optional<std::string> key = form_decode(pair.substr(0, eq));
        if (!key || *key != name) return;
        done = true;  // the first NAME= counts, even when its value is bad or empty
        if (eq != std::string_view::npos) found = form_decode(pair.substr(eq + 1));
    });
    return found;
}

bool starts_with_bearer(std::string_view v) {
    constexpr std::string_view scheme = "bearer";
    if (v.size() < scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if ((v[i] | 0x20) != scheme[i]) return false;
    return v.size() == scheme.size() || v[scheme.size()] == ' ' || v[scheme.size()] == '\t';
}

std::optional<std::string> from_header(const http::fields& headers, std::string_view name) {
    auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    std::string_view value = text::trim(it->value());
    if (name == "authorization" && starts_with_bearer(value)) value = text::trim(value.substr(6));
    return std::string(value);
}

std::optional<std::string> from_cookies(const http::fields& headers, std::string_view name) {
    std::optional<std::string> found;
    // HTTP/1.1 clients send one Cookie header, but a proxy from HTTP/2 may send several.
    auto [it, end] = headers.equal_range(http::field::cookie);
    for (; it != end; ++it) {
        text::for_each_field(it->value(), ';', [&](std::string_view pair) {
            pair = text::trim(pair);
            std::size_t eq = pair.find('=');
            if (found || eq == std::string_view::npos || text::trim(pair.substr(0, eq)) != name) return;
            std::string_view value = text::trim(pair.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            found = std::string(value);
        });
        if (found) break;
    }
    return found;
}

}  // namespace

std::optional<std::string> find_token(std::string_view target, const http::fields& headers,
                                      const std::vector<config::token_source>& from) {
    using kind = config::token_source::kind;
    for (const config::token_source& place : from) {
        std::optional<std::string> token;
        switch (place.where) {
            case kind::query: token = from_query(target, place.name); break;
            case kind::header: token = from_header(headers, place.name); break;
            case kind::cookie: token = from_cookies(headers, place.name); break;
        }
        if (token && !token->empty()) return token;
    }
    return std::nullopt;
}

}  // namespace wsgated::auth
