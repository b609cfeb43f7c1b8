// Tests for net/client_address.
#include "net/client_address.h"

#include <gtest/gtest.h>

using namespace wsgated;
namespace ip = boost::asio::ip;

namespace {

config::cidr cidr(const char* text, int prefix) {
    config::cidr c;
    auto a = ip::make_address(text);
    c.v4 = a.is_v4();
    if (c.v4) { auto b = a.to_v4().to_bytes(); std::copy(b.begin(), b.end(), c.bytes.begin()); }
    else { auto b = a.to_v6().to_bytes(); std::copy(b.begin(), b.end(), c.bytes.begin()); }
    c.prefix_len = prefix;
    c.text = text;
    return c;
}

const std::vector<config::cidr> trusted = {cidr("10.0.0.0", 8), cidr("fd00::", 8)};

std::string client(const char* peer, std::vector<std::string_view> xff, std::string_view real = {}) {
    return net::address_text(net::client_address(ip::make_address(peer), trusted, xff, real));
}

}  // namespace

TEST(client_address, cidr_matching_v4_v6_and_partial_bytes) {
    EXPECT_TRUE(net::cidr_contains(cidr("10.0.0.0", 8), ip::make_address("10.255.1.2")));
    EXPECT_FALSE(net::cidr_contains(cidr("10.0.0.0", 8), ip::make_address("11.0.0.1")));
    EXPECT_TRUE(net::cidr_contains(cidr("192.168.16.0", 20), ip::make_address("192.168.31.255")));
    EXPECT_FALSE(net::cidr_contains(cidr("192.168.16.0", 20), ip::make_address("192.168.32.0")));
    EXPECT_TRUE(net::cidr_contains(cidr("fd00::", 8), ip::make_address("fdab::1")));
    EXPECT_FALSE(net::cidr_contains(cidr("fd00::", 8), ip::make_address("10.0.0.1")));
    EXPECT_TRUE(net::cidr_contains(cidr("0.0.0.0", 0), ip::make_address("8.8.8.8")));
}

TEST(client_address, ipv4_mapped_peer_matches_ipv4_cidr) {
    EXPECT_TRUE(net::cidr_contains(cidr("10.0.0.0", 8), ip::make_address("::ffff:10.1.2.3")));
    EXPECT_EQ(client("::ffff:203.0.113.9", {}), "203.0.113.9");
}

TEST(client_address, untrusted_peer_headers_are_ignored) {
    EXPECT_EQ(client("203.0.113.9", {"1.1.1.1"}, "2.2.2.2"), "203.0.113.9");
}

TEST(client_address, trusted_peer_gives_rightmost_untrusted_hop) {
    EXPECT_EQ(client("10.0.0.1", {"198.51.100.7"}), "198.51.100.7");
    // The client sent its own (spoofed) XFF; the proxy appended the real address.
    EXPECT_EQ(client("10.0.0.1", {"6.6.6.6, 198.51.100.7, 10.0.0.2"}), "198.51.100.7");
    EXPECT_EQ(client("10.0.0.1", {"6.6.6.6", "198.51.100.7"}), "198.51.100.7");
}

TEST(client_address, hops_with_ports_and_brackets) {
    EXPECT_EQ(client("10.0.0.1", {"198.51.100.7:4711"}), "198.51.100.7");
    EXPECT_EQ(client("10.0.0.1", {"[2001:db8::1]:4711"}), "2001:db8::1");
    EXPECT_EQ(client("10.0.0.1", {"2001:db8::1"}), "2001:db8::1");
}

TEST(client_address, garbage_hop_stops_at_last_vouched_address) {
    EXPECT_EQ(client("10.0.0.1", {"198.51.100.7, unknown"}), "10.0.0.1");
    EXPECT_EQ(client("10.0.0.1", {"garbage, 10.0.0.3"}), "10.0.0.3");
}

TEST(client_address, all_hops_trusted_gives_leftmost) {
    EXPECT_EQ(client("10.0.0.1", {"10.0.0.5, 10.0.0.6"}), "10.0.0.5");
}

TEST(client_address, x_real_ip_only_without_xff) {
    EXPECT_EQ(client("10.0.0.1", {}, "198.51.100.8"), "198.51.100.8");
    EXPECT_EQ(client("10.0.0.1", {"198.51.100.7"}, "198.51.100.8"), "198.51.100.7");
    EXPECT_EQ(client("10.0.0.1", {}, "nonsense"), "10.0.0.1");
}
