// client_address: see client_address.h.
#include "net/client_address.h"

#include <algorithm>
#include <cstring>

#include "text/http_text.h"
#include "text/split.h"

namespace wsgated::net {
namespace {

namespace ip = boost::asio::ip;

// IPv4-mapped IPv6 peers (::ffff:1.2.3.4 on a dual-stack socket) are IPv4 for matching.
ip::address canonical(const ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return ip::make_address_v4(ip::v4_mapped, a.to_v6());
    return a;
}

// One X-Forwarded-For hop: "1.2.3.4", "1.2.3.4:5678", "[::1]:5678", "::1". nullopt for
// anything else ("unknown", obfuscated identifiers, garbage).
std::optional<ip::address> parse_hop(std::string_view hop) {
    hop = text::trim(hop);
    if (!hop.empty() && hop.front() == '[') {
        auto close = hop.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        hop = hop.substr(1, close - 1);
    } else if (std::count(hop.begin(), hop.end(), ':') == 1) {
        hop = hop.substr(0, hop.find(':'));  // IPv4 with a port
    }
    boost::system::error_code ec;
    auto a = ip::make_address(std::string(hop), ec);
    if (ec) return std::nullopt;
    return canonical(a);
}

// Every hop of every X-Forwarded-For header, in order (one header may list several).
std::vector<std::string_view> split_hops(const std::vector<std::string_view>& headers) {
    std::vector<std::string_view> hops;
    for (auto h : headers) text::for_each_field(h, ',', [&](std::string_view hop) { hops.push_back(hop); });
    return hops;
}

}  // namespace

bool cidr_contains(const config::cidr& net, const ip::address& addr) {
    auto a = canonical(addr);
    if (a.is_v4() != net.v4) return false;
    unsigned char bytes[16] = {};
    if (a.is_v4()) { auto b = a.to_v4().to_bytes(); std::memcpy(bytes, b.data(), 4); }
    else { auto b = a.to_v6().to_bytes(); std::memcpy(bytes, b.data(), 16); }
    int full = net.prefix_len / 8, rest = net.prefix_len % 8;
    if (std::memcmp(bytes, net.bytes.data(), full) != 0) return false;
    if (rest == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
    return (bytes[full] & mask) == (net.bytes[full] & mask);
}

bool is_trusted(const std::vector<config::cidr>& trusted, const ip::address& a) {
    return std::any_of(trusted.begin(), trusted.end(),
                       [&](const config::cidr& c) { return cidr_contains(c, a); });
}

ip::address client_address(const ip::address& peer, const std::vector<config::cidr>& trusted,
                           const std::vector<std::string_view>& xff, std::string_view x_real_ip) {
    auto client = canonical(peer);
    if (!is_trusted(trusted, client)) return client;
    auto hops = split_hops(xff);
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        auto hop = parse_hop(*it);
        if (!hop) return client;  // an unparsable hop: stop at the last address we can vouch for
        client = *hop;
        if (!is_trusted(trusted, client)) return client;
    }
    if (hops.empty() && !x_real_ip.empty()) {
        if (auto real = parse_hop(x_real_ip)) return *real;
    }
    return client;  // every hop trusted: the leftmost one
}

std::string address_text(const ip::address& a) { return canonical(a).to_string(); }

}  // namespace wsgated::net
