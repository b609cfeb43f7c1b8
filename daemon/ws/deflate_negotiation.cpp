// deflate_negotiation: see deflate_negotiation.h. The grammar is RFC 6455 §9.1's extension
// list: offers separated by ',', parameters by ';', tokens case-insensitive, values tokens or
// quoted strings, optional whitespace around each.
#include "ws/deflate_negotiation.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <boost/beast/core/string.hpp>

#include "text/http_text.h"

namespace wsgated::ws {
namespace {

using boost::beast::iequals;

// One permessage-deflate offer as read.
struct offer {
    int server_bits = 0;  // 0: absent, else 8..15
    int client_bits = 0;  // 0: absent, -1: named without a value, else 8..15
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
};

// Calls f with each item of `s` between `delim`s that are not inside a quoted string (a value
// may be quoted, and a quoted value of another extension may hold ',' or ';').
template <class F>
void for_each_item(std::string_view s, char delim, F&& f) {
    bool quoted = false;
    std::size_t begin = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (quoted && s[i] == '\\') ++i;  // a quoted-pair: the next character is literal
        else if (s[i] == '"') quoted = !quoted;
        else if (!quoted && s[i] == delim) {
            f(s.substr(begin, i - begin));
            begin = i + 1;
        }
    }
    f(s.substr(std::min(begin, s.size())));
}

// A parameter's value without its quotes and escapes (RFC 6455 §9.1 compares the unquoted
// value); nullopt for an unbalanced quote.
std::optional<std::string> unquote(std::string_view v) {
    if (v.empty() || v.front() != '"') return std::string(v);
    if (v.size() < 2 || v.back() != '"') return std::nullopt;
    std::string out;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
        if (v[i] == '\\' && i + 2 < v.size()) ++i;
        out.push_back(v[i]);
    }
    return out;
}

// A window size, RFC 7692 §7.1.2: a decimal integer 8..15 without leading zeros; -1 otherwise.
int window_bits(std::string_view v) {
    if (v.size() == 1 && (v[0] == '8' || v[0] == '9')) return v[0] - '0';
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
    return -1;
}

bool read_window(std::optional<std::string_view> value, bool value_required, int& bits) {
    if (bits != 0) return false;  // named twice
    if (!value) {
        bits = -1;
        return !value_required;
    }
    auto v = unquote(*value);
    bits = v ? window_bits(*v) : -1;
    return bits != -1;
}

bool read_flag(std::optional<std::string_view> value, bool& flag) {
    if (flag || value) return false;  // named twice, or given a value it does not take
    flag = true;
    return true;
}

// One "name[=value]" of an offer into `o`; false makes the offer unacceptable (RFC 7692 §7.1:
// an unknown parameter, one named twice, a bad value).
bool read_param(std::string_view param, offer& o) {
    auto eq = param.find('=');
    auto name = text::trim(param.substr(0, eq));
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = text::trim(param.substr(eq + 1));
    if (iequals(name, "server_max_window_bits")) return read_window(value, true, o.server_bits);
    if (iequals(name, "client_max_window_bits")) return read_window(value, false, o.client_bits);
    if (iequals(name, "server_no_context_takeover")) return read_flag(value, o.server_no_context_takeover);
    if (iequals(name, "client_no_context_takeover")) return read_flag(value, o.client_no_context_takeover);
    return false;
}

// The offer `ext`, if it is permessage-deflate and one we can accept.
std::optional<offer> read_offer(std::string_view ext) {
    bool first = true, ours = false, ok = true;
    offer o;
    for_each_item(ext, ';', [&](std::string_view item) {
        if (std::exchange(first, false)) ours = iequals(text::trim(item), "permessage-deflate");
        else if (ours && ok) ok = read_param(item, o);
    });
    // zlib cannot compress raw deflate with an 8-bit window, and answering 9 would break
    // RFC 7692 §7.1.2.1 (the answer may only lower the offer): the client's next offer, if any.
    if (!ours || !ok || o.server_bits == 8) return std::nullopt;
    return o;
}

std::string with_bits(std::string_view name, int bits) {
    return "; " + std::string(name) + "=" + std::to_string(bits);
}

deflate_answer answer(const offer& o, const config::compression_config& route) {
    const int route_server = std::clamp(route.server_max_window_bits, 9, 15);
    const int route_client = std::clamp(route.client_max_window_bits, 9, 15);
    deflate_answer a;
    deflate_params& p = a.params;
    p.enabled = true;
    p.server_no_context_takeover = o.server_no_context_takeover || route.server_no_context_takeover;
    p.client_no_context_takeover = o.client_no_context_takeover || route.client_no_context_takeover;
    p.server_max_window_bits = o.server_bits ? std::min(o.server_bits, route_server) : route_server;
    // RFC 7692 §7.1.2.2: a client that did not offer client_max_window_bits may not be told one;
    // it compresses with up to 15 bits then. Named with or without a value: it accepts a limit.
    const int client = o.client_bits > 0 ? std::min(o.client_bits, route_client) : o.client_bits ? route_client : 15;
    p.client_max_window_bits = std::max(9, client);

    a.extension = "permessage-deflate";
    if (p.server_no_context_takeover) a.extension += "; server_no_context_takeover";
    if (p.client_no_context_takeover) a.extension += "; client_no_context_takeover";
    // An offer that names server_max_window_bits is answered with it, even at 15 (§7.1.2.1).
    if (o.server_bits || p.server_max_window_bits < 15)
        a.extension += with_bits("server_max_window_bits", p.server_max_window_bits);
    if (o.client_bits) a.extension += with_bits("client_max_window_bits", client);
    return a;
}

}  // namespace

deflate_answer negotiate_deflate(std::string_view offers, const config::compression_config& route) {
    if (!route.enabled) return {};
    std::optional<offer> accepted;
    for_each_item(offers, ',', [&](std::string_view ext) {
        if (!accepted) accepted = read_offer(ext);
    });
    return accepted ? answer(*accepted, route) : deflate_answer{};
}

}  // namespace wsgated::ws
