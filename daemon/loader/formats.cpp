// formats: see formats.h.
#include "loader/formats.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "route/path_pattern.h"

namespace wsgated::config {
namespace {

bool is_ipv4(const std::string& s, unsigned char* out = nullptr) {
    unsigned char buf[4];
    return inet_pton(AF_INET, s.c_str(), out ? out : buf) == 1;
}

bool is_ipv6(const std::string& s, unsigned char* out = nullptr) {
    unsigned char buf[16];
    return inet_pton(AF_INET6, s.c_str(), out ? out : buf) == 1;
}

bool is_hostname(std::string_view s) {
    return !s.empty() && s.size() <= 253 && s.front() != '-' && s.front() != '.' &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.';
           });
}

template <class T>
bool parse_number(std::string_view s, T& out) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

bool parse_port(std::string_view s, bool allow_zero, std::uint16_t& port, std::string& error) {
    if (!parse_number(s, port) || (port == 0 && !allow_zero)) {
        error = std::string("port '") + std::string(s) + "' is not a number from " +
                (allow_zero ? "0" : "1") + " to 65535";
        return false;
    }
    return true;
}

// "host:port", "[v6]:port", and (when the port is optional) "host" or "[v6]". The brackets are
// removed from `host`; `bracketed` says they were there.
bool split_host_port(std::string_view s, bool port_required, std::string& host,
                     std::string& port, bool& bracketed, std::string& error) {
    bracketed = !s.empty() && s.front() == '[';
    std::string_view rest;
    if (bracketed) {
        std::size_t close = s.find(']');
        if (close == std::string_view::npos) {
            error = "missing ']' after the IPv6 address";
            return false;
        }
        host = std::string(s.substr(1, close - 1));
        rest = s.substr(close + 1);
    } else {
        std::size_t colon = s.rfind(':');
        host = std::string(s.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
        if (host.find(':') != std::string::npos) {
            error = "an IPv6 address must be in brackets, e.g. [::1]:8080";
            return false;
        }
    }
    if (rest.empty() && !port_required) return true;
    if (rest.empty() || rest.front() != ':') {
        error = "expected host:port, e.g. 0.0.0.0:8080 or [::]:8443";
        return false;
    }
    port = std::string(rest.substr(1));
    return true;
}

// Marks the bits of `bytes` below `prefix` bits; true if any is set.
bool host_bits_set(const std::array<unsigned char, 16>& bytes, int total_bits, int prefix) {
    for (int bit = prefix; bit < total_bits; ++bit)
        if (bytes[bit / 8] & (0x80 >> (bit % 8))) return true;
    return false;
}

// The "host[:port]" of a URL we connect to: a host name, an IPv4 address or a bracketed IPv6
// address, and a port from 1 (`default_port` when absent).
// A host to connect to: an [IPv6] literal when bracketed, else a host name or IPv4 address.
bool valid_connect_host(const std::string& host, bool bracketed, std::string& error) {
    if (bracketed ? is_ipv6(host) : is_hostname(host)) return true;
    error = "'" + host + "' is not a host name or address";
    return false;
}

bool parse_authority(std::string_view authority, std::uint16_t default_port, std::string& host,
                     std::uint16_t& port, std::string& error) {
    if (authority.find('@') != std::string_view::npos) {
        error = "credentials in the URL are not supported";
        return false;
    }
    std::string port_text;
    bool bracketed = false;
    if (!split_host_port(authority, false, host, port_text, bracketed, error)) return false;
    if (!valid_connect_host(host, bracketed, error)) return false;
    port = default_port;
    return port_text.empty() || parse_port(port_text, false, port, error);
}

}  // namespace

bool parse_connect_address(std::string_view text, std::string& host, std::string& port,
                           std::string& error) {
    std::string p;
    bool bracketed = false;
    if (!split_host_port(text, true, host, p, bracketed, error)) return false;
    if (!valid_connect_host(host, bracketed, error)) return false;
    std::uint16_t n = 0;
    if (!parse_port(p, false, n, error)) return false;
    port = std::to_string(n);
    return true;
}

bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port,
                          std::string& error) {
    std::string h, p;
    bool bracketed = false;
    if (!split_host_port(text, true, h, p, bracketed, error)) return false;
    if (bracketed ? !is_ipv6(h) : (h != "localhost" && !is_ipv4(h))) {
        error = "'" + h + "' is not an IPv4 address, an [IPv6] address or localhost";
        return false;
    }
    if (!parse_port(p, true, port, error)) return false;
    host = h == "localhost" ? "127.0.0.1" : h;
    return true;
}

bool parse_cidr(std::string_view text, cidr& out, std::string& error) {
    std::size_t slash = text.find('/');
    std::string addr(text.substr(0, slash));
    cidr c;
    c.text = std::string(text);
    c.v4 = is_ipv4(addr, c.bytes.data());
    if (!c.v4 && !is_ipv6(addr, c.bytes.data())) {
        error = "'" + addr + "' is not an IPv4 or IPv6 address";
        return false;
    }
    int bits = c.v4 ? 32 : 128;
    c.prefix_len = bits;
    if (slash != std::string_view::npos &&
        (!parse_number(text.substr(slash + 1), c.prefix_len) || c.prefix_len > bits)) {
        error = "prefix length must be a number from 0 to " + std::to_string(bits);
        return false;
    }
    if (host_bits_set(c.bytes, bits, c.prefix_len)) {
        error = "address has bits set beyond the /" + std::to_string(c.prefix_len) + " prefix";
        return false;
    }
    out = std::move(c);
    return true;
}

bool check_socket_path(std::string_view path, std::string& error) {
    if (path.empty() || path.front() != '/') {
        error = "socket path must be absolute";
        return false;
    }
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        error = "socket path is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                " bytes";
        return false;
    }
    return true;
}

bool parse_http_url(std::string_view text, http_endpoint& out, std::string& error) {
    http_endpoint u;
    if (text.starts_with("unix:")) {
        std::string_view rest = text.substr(5);
        std::size_t sep = rest.find(":/");
        u.unix_socket = true;
        u.socket_path = std::string(rest.substr(0, sep));
        u.target = sep == std::string_view::npos ? "/" : std::string(rest.substr(sep + 1));
        if (!check_socket_path(u.socket_path, error)) return false;
        out = std::move(u);
        return true;
    }
    if (!text.starts_with("http://")) {
        error = text.starts_with("https://") ? "https is not supported yet; use http:// or unix:"
                                             : "must start with http:// or unix:";
        return false;
    }
    std::string_view rest = text.substr(7);
    std::size_t slash = rest.find('/');
    u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (u.target.find_first_of("# ") != std::string::npos) {
        error = "the path must not contain '#' or spaces";
        return false;
    }
    std::uint16_t port = 0;
    if (!parse_authority(rest.substr(0, slash), 80, u.host, port, error)) return false;
    u.port = std::to_string(port);
    out = std::move(u);
    return true;
}

// redis[s]://[[user]:password@]host[:port][/db]: the userinfo is percent-decoded (a password
// may hold any byte), and a user without a password is refused (AUTH needs one).
bool parse_redis_url(std::string_view text, cluster_config& out, std::string& error) {
    bool tls = text.starts_with("rediss://");
    if (!tls && !text.starts_with("redis://")) {
        error = "must look like redis://[user:password@]host[:port][/db] (rediss:// for TLS)";
        return false;
    }
    std::string_view rest = text.substr(tls ? 9 : 8);
    std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string user, password;
    if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        std::size_t colon = userinfo.find(':');
        if (colon == std::string_view::npos) {
            error = "credentials must be user:password@ or :password@";
            return false;
        }
        if (!route::percent_decode_segment(userinfo.substr(0, colon), user, true) ||
            !route::percent_decode_segment(userinfo.substr(colon + 1), password, true)) {
            error = "bad percent-encoding in the credentials";
            return false;
        }
        authority = authority.substr(at + 1);
    }
    std::string host;
    std::uint16_t port = 0;
    if (!parse_authority(authority, 6379, host, port, error)) return false;
    int db = 0;
    if (slash != std::string_view::npos && slash + 1 < rest.size() &&
        (!parse_number(rest.substr(slash + 1), db) || db < 0 || db > 1'000'000)) {
        error = "database must be a number, e.g. redis://127.0.0.1:6379/0";
        return false;
    }
    out.redis = std::string(text);
    out.redis_tls = tls;
    out.redis_host = std::move(host);
    out.redis_port = port;
    out.redis_db = db;
    out.redis_user = std::move(user);
    out.redis_password = std::move(password);
    out.redis_seeds = {redis_seed{out.redis_host, out.redis_port}};
    return true;
}

// Several URLs, separated by commas: seed nodes of one Redis Cluster, so one scheme, one set of
// credentials, and database 0 (a Redis Cluster has no other).
bool parse_redis_urls(std::string_view text, cluster_config& out, std::string& error) {
    std::vector<redis_seed> seeds;
    std::size_t n = 0;
    for (std::size_t from = 0; from <= text.size(); ++n) {
        std::size_t comma = std::min(text.find(',', from), text.size());
        std::string_view item = text.substr(from, comma - from);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        from = comma + 1;
        cluster_config one;
        if (!parse_redis_url(item, one, error)) {
            if (text.find(',') != std::string_view::npos) error = "address " + std::to_string(n + 1) + ": " + error;
            return false;
        }
        if (n > 0 && (one.redis_tls != out.redis_tls || one.redis_user != out.redis_user ||
                      one.redis_password != out.redis_password || one.redis_db != out.redis_db)) {
            error = "address " + std::to_string(n + 1) +
                    ": every address of a Redis Cluster must use the same scheme, credentials and database";
            return false;
        }
        seeds.push_back(redis_seed{one.redis_host, one.redis_port});
        if (n == 0) out = std::move(one);
    }
    if (seeds.size() > 1 && out.redis_db != 0) {
        error = "several addresses name a Redis Cluster, which has database 0 only (…/0 or no database)";
        return false;
    }
    out.redis = std::string(text);
    out.redis_seeds = std::move(seeds);
    return true;
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_token(std::string_view text) {
    constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               specials.find(c) != std::string_view::npos;
    });
}

bool parse_token_source(std::string_view text, token_source& out, std::string& error) {
    std::size_t colon = text.find(':');
    std::string_view where = text.substr(0, colon);
    token_source t;
    if (where == "query") t.where = token_source::kind::query;
    else if (where == "header") t.where = token_source::kind::header;
    else if (where == "cookie") t.where = token_source::kind::cookie;
    else colon = std::string_view::npos;
    if (colon == std::string_view::npos) {
        error = "expected query:NAME, header:NAME or cookie:NAME";
        return false;
    }
    std::string_view name = text.substr(colon + 1);
    if (!is_token(name)) {
        error = "'" + std::string(name) + "' is not a valid " + std::string(where) + " name";
        return false;
    }
    // Header names are compared case-insensitively; storing them lower-case lets the
    // handshake compare bytes.
    t.name = t.where == token_source::kind::header ? to_lower(name) : std::string(name);
    out = std::move(t);
    return true;
}

bool check_room_template(std::string_view text, const std::vector<std::string>& params,
                         std::string& error) {
    if (text.empty()) { error = "a room name must not be empty"; return false; }
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '}') { error = "'}' without '{'"; return false; }
        if (text[i] != '{') continue;
        std::size_t close = text.find('}', i);
        if (close == std::string_view::npos) { error = "unterminated '{'"; return false; }
        std::string_view ref = text.substr(i + 1, close - i - 1);
        bool known = ref == "user" || (ref.starts_with("claims.") && ref.size() > 7) ||
                     std::find(params.begin(), params.end(), ref) != params.end();
        if (!known) {
            error = "unknown reference {" + std::string(ref) +
                    "}: use a route parameter, {user} or {claims.NAME}";
            return false;
        }
        i = close;
    }
    return true;
}

}  // namespace wsgated::config
