#include "handshake.h"

#include <strings.h>

namespace wsbench {
namespace {

// RFC 6455 §1.3's example key and its accept value: the server cannot tell, and the check
// stays a string compare per handshake.
constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One Sec-WebSocket-Extensions value: "permessage-deflate; server_no_context_takeover; …".
void read_extensions(std::string_view v, upgrade_answer& a) {
    while (!v.empty()) {
        auto semi = v.find(';');
        std::string_view param = trim(v.substr(0, semi));
        auto eq = param.find('=');
        std::string_view name = trim(param.substr(0, eq));
        if (iequals(name, "permessage-deflate")) a.deflate = true;
        else if (iequals(name, "server_no_context_takeover")) a.server_no_context = true;
        if (semi == std::string_view::npos) break;
        v.remove_prefix(semi + 1);
    }
}

}  // namespace

std::string upgrade_request(const target& t, const std::vector<std::string>& headers,
                            bool offer_deflate) {
    std::string r;
    r.reserve(256);
    r += "GET " + t.path + " HTTP/1.1\r\nHost: " + t.host_header +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    r += key;
    r += "\r\nSec-WebSocket-Version: 13\r\n";
    // client_no_context_takeover: we compress each message on its own, once, before the run.
    if (offer_deflate)
        r += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n";
    for (const auto& h : headers) r += h + "\r\n";
    r += "\r\n";
    return r;
}

upgrade_answer check_upgrade_answer(std::string_view buf) {
    upgrade_answer a;
    auto end = buf.find("\r\n\r\n");
    if (end == std::string_view::npos) return a;
    a.head_len = end + 4;
    std::string_view head = buf.substr(0, end);
    auto eol = head.find("\r\n");
    std::string_view status = head.substr(0, eol);
    a.st = upgrade_answer::state::bad;
    if (status.substr(0, 13) != "HTTP/1.1 101 " && status != "HTTP/1.1 101") {
        a.why = std::string(status);
        return a;
    }
    bool accepted = false;
    while (eol != std::string_view::npos) {
        head.remove_prefix(eol + 2);
        eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (iequals(name, "Sec-WebSocket-Accept")) accepted = value == accept;
        else if (iequals(name, "Sec-WebSocket-Extensions")) read_extensions(value, a);
    }
    if (!accepted) {
        a.why = "missing or wrong Sec-WebSocket-Accept";
        return a;
    }
    a.st = upgrade_answer::state::ok;
    return a;
}

}  // namespace wsbench
