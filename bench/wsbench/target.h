// target: where a connection goes, parsed once from a URL (ws, wss, tcp, http) and resolved
// once; every connection of a run reuses the sockaddr.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace wsbench {

enum class scheme { ws, wss, tcp, http };

struct target {
    scheme kind = scheme::ws;
    std::string host;         // as written, without brackets
    std::string host_header;  // Host: value (brackets and port as needed)
    std::string path = "/";   // path and query
    std::uint16_t port = 0;
    sockaddr_storage addr{};
    socklen_t addr_len = 0;

    bool tls() const { return kind == scheme::wss; }
    bool upgrade() const { return kind == scheme::ws || kind == scheme::wss; }
    bool is_loopback_v4() const;
};

// Parses and resolves `url`; false with the reason in `err`.
bool parse_target(const std::string& url, target& out, std::string& err);

}  // namespace wsbench
