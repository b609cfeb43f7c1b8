#include "target.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdlib>
#include <cstring>

namespace wsbench {

bool target::is_loopback_v4() const {
    if (addr.ss_family != AF_INET) return false;
    auto a = ntohl(reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr);
    return (a >> 24) == 127;
}

namespace {

bool split_scheme(const std::string& url, target& t, std::string& rest, std::string& err) {
    static const std::pair<const char*, scheme> schemes[] = {
        {"ws://", scheme::ws}, {"wss://", scheme::wss}, {"tcp://", scheme::tcp},
        {"http://", scheme::http}};
    for (const auto& [prefix, kind] : schemes) {
        if (url.rfind(prefix, 0) == 0) {
            t.kind = kind;
            rest = url.substr(std::strlen(prefix));
            return true;
        }
    }
    err = "URL must start with ws://, wss://, tcp:// or http://: " + url;
    return false;
}

bool split_authority(const std::string& auth, target& t, std::string& err) {
    std::string port;
    if (!auth.empty() && auth[0] == '[') {
        auto close = auth.find(']');
        if (close == std::string::npos) return err = "bad IPv6 literal in URL", false;
        t.host = auth.substr(1, close - 1);
        if (close + 1 < auth.size()) {
            if (auth[close + 1] != ':') return err = "bad authority in URL", false;
            port = auth.substr(close + 2);
        }
    } else {
        auto colon = auth.rfind(':');
        t.host = auth.substr(0, colon);
        if (colon != std::string::npos) port = auth.substr(colon + 1);
    }
    if (t.host.empty()) return err = "URL has no host", false;
    if (port.empty()) {
        if (t.kind == scheme::tcp) return err = "tcp:// URL needs a port", false;
        t.port = t.kind == scheme::wss ? 443 : 80;
    } else {
        char* end = nullptr;
        long p = std::strtol(port.c_str(), &end, 10);
        if (*end || p < 1 || p > 65535) return err = "bad port in URL: " + port, false;
        t.port = std::uint16_t(p);
    }
    bool v6 = t.host.find(':') != std::string::npos;
    t.host_header = (v6 ? "[" + t.host + "]" : t.host) + (port.empty() ? "" : ":" + port);
    return true;
}

bool resolve(target& t, std::string& err) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(t.host.c_str(), std::to_string(t.port).c_str(), &hints, &res);
    if (rc != 0 || !res) return err = "cannot resolve " + t.host + ": " + gai_strerror(rc), false;
    std::memcpy(&t.addr, res->ai_addr, res->ai_addrlen);
    t.addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

}  // namespace

bool parse_target(const std::string& url, target& t, std::string& err) {
    std::string rest;
    if (!split_scheme(url, t, rest, err)) return false;
    auto slash = rest.find_first_of("/?");
    std::string auth = rest.substr(0, slash);
    if (slash != std::string::npos) t.path = rest.substr(slash);
    if (!t.path.empty() && t.path[0] == '?') t.path = "/" + t.path;
    if (!split_authority(auth, t, err)) return false;
    return resolve(t, err);
}

}  // namespace wsbench
