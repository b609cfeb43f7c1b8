// proxy_protocol: see proxy_protocol.h.
#include "net/proxy_protocol.h"

#include <array>
#include <charconv>
#include <cstring>
#include <vector>

#include "text/split.h"

namespace wsgated::net {
namespace {

namespace ip = boost::asio::ip;

constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t v1_max = 107;

proxy_result invalid(std::string& error, std::string why) {
    error = std::move(why);
    return proxy_result::invalid;
}

// True when `data` could still become `full` (it is a prefix of it).
bool could_become(std::string_view data, std::string_view full) {
    return full.substr(0, data.size()) == data.substr(0, std::min(data.size(), full.size()));
}

bool parse_port(std::string_view s, std::uint16_t& port) {
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
    unsigned v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

proxy_result parse_v1(std::string_view data, proxy_header& out, std::string& error) {
    auto eol = data.find("\r\n");
    if (eol == std::string_view::npos)
        return data.size() < v1_max ? proxy_result::need_more : invalid(error, "v1 header too long");
    if (eol + 2 > v1_max) return invalid(error, "v1 header too long");
    auto parts = text::split(data.substr(v1_prefix.size(), eol - v1_prefix.size()), ' ');
    out = proxy_header{};
    out.length = eol + 2;
    if (!parts.empty() && parts[0] == "UNKNOWN") return proxy_result::complete;
    if (parts.size() != 5 || (parts[0] != "TCP4" && parts[0] != "TCP6"))
        return invalid(error, "bad v1 header");
    boost::system::error_code ec;
    auto src = ip::make_address(std::string(parts[1]), ec);
    if (ec || src.is_v4() != (parts[0] == "TCP4")) return invalid(error, "bad v1 source address");
    auto dst = ip::make_address(std::string(parts[2]), ec);
    if (ec || dst.is_v4() != src.is_v4()) return invalid(error, "bad v1 destination address");
    std::uint16_t sport = 0, dport = 0;
    if (!parse_port(parts[3], sport) || !parse_port(parts[4], dport)) return invalid(error, "bad v1 port");
    out.has_address = true;
    out.source = src;
    out.source_port = sport;
    return proxy_result::complete;
}

proxy_result parse_v2(std::string_view data, proxy_header& out, std::string& error) {
    if (data.size() < 16) return proxy_result::need_more;
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(data[i]); };
    if ((byte(12) >> 4) != 2) return invalid(error, "bad v2 version");
    unsigned command = byte(12) & 0x0F, family = byte(13);
    std::size_t len = (std::size_t(byte(14)) << 8) | byte(15);
    if (command > 1) return invalid(error, "bad v2 command");
    if (16 + len > max_proxy_header) return invalid(error, "v2 header too long");
    if (data.size() < 16 + len) return proxy_result::need_more;
    out = proxy_header{};
    out.length = 16 + len;
    if (command == 0) return proxy_result::complete;  // LOCAL: health check by the proxy itself
    if (family == 0x11 || family == 0x12) {  // TCP or UDP over IPv4
        if (len < 12) return invalid(error, "v2 IPv4 address block too short");
        ip::address_v4::bytes_type b;
        std::memcpy(b.data(), data.data() + 16, 4);
        out.source = ip::address_v4(b);
        out.source_port = static_cast<std::uint16_t>((byte(24) << 8) | byte(25));
        out.has_address = true;
    } else if (family == 0x21 || family == 0x22) {  // over IPv6
        if (len < 36) return invalid(error, "v2 IPv6 address block too short");
        ip::address_v6::bytes_type b;
        std::memcpy(b.data(), data.data() + 16, 16);
        out.source = ip::address_v6(b);
        out.source_port = static_cast<std::uint16_t>((byte(48) << 8) | byte(49));
        out.has_address = true;
    }
    // UNSPEC and AF_UNIX: the spec says use the connection's own addresses.
    return proxy_result::complete;
}

}  // namespace

proxy_result parse_proxy_header(std::string_view data, proxy_header& out, std::string& error) {
    if (data.size() >= v2_signature.size() && data.substr(0, 12) == v2_signature)
        return parse_v2(data, out, error);
    if (data.size() >= v1_prefix.size() && data.substr(0, v1_prefix.size()) == v1_prefix)
        return parse_v1(data, out, error);
    if (could_become(data, v2_signature) || could_become(data, v1_prefix)) return proxy_result::need_more;
    return invalid(error, "no PROXY header");
}

}  // namespace wsgated::net
