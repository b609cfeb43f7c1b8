// proxy_protocol: parses the PROXY protocol header (HAProxy's spec, v1 text and v2 binary)
// that a load balancer (HAProxy, AWS NLB, …) puts before the client's first byte on listeners
// with `proxy_protocol: true`, giving the client's real address.
//
// Pure function over the bytes read so far: the handshake reads, calls it, and reads more
// while it says need_more. Bytes after the header belong to TLS or HTTP and are handed on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace wsgated::net {

// The most we read looking for a header: v1 is at most 107 bytes; v2 headers with TLVs are
// allowed up to this size (larger ones are refused rather than buffered).
inline constexpr std::size_t max_proxy_header = 1024;

struct proxy_header {
    std::size_t length = 0;  // bytes of the header, to skip
    bool has_address = false;  // false for v2 LOCAL, v1 UNKNOWN, v2 UNSPEC/UNIX: keep the peer
    boost::asio::ip::address source;
    std::uint16_t source_port = 0;
};

enum class proxy_result { complete, need_more, invalid };

// On invalid, `error` says why ("no PROXY header", "bad v1 address", …) for the debug log.
proxy_result parse_proxy_header(std::string_view data, proxy_header& out, std::string& error);

}  // namespace wsgated::net
