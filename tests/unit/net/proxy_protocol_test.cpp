// Tests for net/proxy_protocol.
#include "net/proxy_protocol.h"

#include <gtest/gtest.h>

using namespace wsgated::net;

namespace {

proxy_result parse(std::string_view d, proxy_header& h) {
    std::string error;
    return parse_proxy_header(d, h, error);
}

std::string v2(unsigned char cmd, unsigned char fam, std::string addr) {
    std::string s("\r\n\r\n\0\r\nQUIT\n", 12);
    s.push_back(static_cast<char>(0x20 | cmd));
    s.push_back(static_cast<char>(fam));
    s.push_back(static_cast<char>(addr.size() >> 8));
    s.push_back(static_cast<char>(addr.size() & 0xFF));
    return s + addr;
}

std::string v4_block() {
    return std::string("\xC6\x33\x64\x07" "\x0A\x00\x00\x01" "\x12\x67" "\x01\xBB", 12);  // 198.51.100.7:4711 → 10.0.0.1:443
}

}  // namespace

TEST(proxy_protocol, v1_tcp4) {
    proxy_header h;
    std::string d = "PROXY TCP4 198.51.100.7 10.0.0.1 4711 443\r\nGET / HTTP/1.1\r\n";
    ASSERT_EQ(parse(d, h), proxy_result::complete);
    EXPECT_EQ(h.length, d.find("GET"));
    EXPECT_TRUE(h.has_address);
    EXPECT_EQ(h.source.to_string(), "198.51.100.7");
    EXPECT_EQ(h.source_port, 4711);
}

TEST(proxy_protocol, v1_tcp6_and_unknown) {
    proxy_header h;
    ASSERT_EQ(parse("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n", h), proxy_result::complete);
    EXPECT_EQ(h.source.to_string(), "2001:db8::1");
    ASSERT_EQ(parse("PROXY UNKNOWN\r\n", h), proxy_result::complete);
    EXPECT_FALSE(h.has_address);
    EXPECT_EQ(h.length, 15u);
}

TEST(proxy_protocol, v1_partial_needs_more) {
    proxy_header h;
    EXPECT_EQ(parse("PRO", h), proxy_result::need_more);
    EXPECT_EQ(parse("PROXY TCP4 198.51", h), proxy_result::need_more);
}

TEST(proxy_protocol, v1_malformed_is_invalid) {
    proxy_header h;
    EXPECT_EQ(parse("PROXY TCP4 198.51.100.7 10.0.0.1 4711\r\n", h), proxy_result::invalid);
    EXPECT_EQ(parse("PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n", h), proxy_result::invalid);
    EXPECT_EQ(parse("PROXY TCP4 1.2.3.4 5.6.7.8 65536 1\r\n", h), proxy_result::invalid);
    EXPECT_EQ(parse("PROXY TCP4 1.2.3.4 5.6.7.8 01 1\r\n", h), proxy_result::invalid);
    EXPECT_EQ(parse("PROXY TCP5 1.2.3.4 5.6.7.8 1 1\r\n", h), proxy_result::invalid);
    EXPECT_EQ(parse("PROXY " + std::string(200, 'x'), h), proxy_result::invalid);
}

TEST(proxy_protocol, missing_header_is_invalid) {
    proxy_header h;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\n", h), proxy_result::invalid);
    EXPECT_EQ(parse("\x16\x03\x01", h), proxy_result::invalid);  // a TLS ClientHello
}

TEST(proxy_protocol, v2_tcp4_with_trailing_data) {
    proxy_header h;
    auto d = v2(1, 0x11, v4_block()) + "GET";
    ASSERT_EQ(parse(d, h), proxy_result::complete);
    EXPECT_EQ(h.length, 28u);
    EXPECT_EQ(h.source.to_string(), "198.51.100.7");
    EXPECT_EQ(h.source_port, 4711);
}

TEST(proxy_protocol, v2_tcp6) {
    proxy_header h;
    std::string block(36, '\0');
    block[0] = '\x20'; block[1] = '\x01'; block[2] = '\x0d'; block[3] = '\xb8'; block[15] = '\x05';
    block[32] = '\x00'; block[33] = '\x50';
    ASSERT_EQ(parse(v2(1, 0x21, block), h), proxy_result::complete);
    EXPECT_EQ(h.source.to_string(), "2001:db8::5");
    EXPECT_EQ(h.source_port, 80);
}

TEST(proxy_protocol, v2_local_and_unspec_keep_the_peer) {
    proxy_header h;
    ASSERT_EQ(parse(v2(0, 0x00, ""), h), proxy_result::complete);
    EXPECT_FALSE(h.has_address);
    ASSERT_EQ(parse(v2(1, 0x00, ""), h), proxy_result::complete);
    EXPECT_FALSE(h.has_address);
}

TEST(proxy_protocol, v2_partial_needs_more_and_bad_fields_are_invalid) {
    proxy_header h;
    auto d = v2(1, 0x11, v4_block());
    EXPECT_EQ(parse(d.substr(0, 5), h), proxy_result::need_more);
    EXPECT_EQ(parse(d.substr(0, 20), h), proxy_result::need_more);
    EXPECT_EQ(parse(v2(1, 0x11, "short"), h), proxy_result::invalid);
    EXPECT_EQ(parse(v2(7, 0x11, v4_block()), h), proxy_result::invalid);
    auto bad_version = d;
    bad_version[12] = '\x11';
    EXPECT_EQ(parse(bad_version, h), proxy_result::invalid);
    EXPECT_EQ(parse(v2(1, 0x11, std::string(2000, 'x')), h), proxy_result::invalid);
}
