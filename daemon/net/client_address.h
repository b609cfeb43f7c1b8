// client_address: which address is "the client" for limits, logs and backends (SPEC §3).
//
// The TCP peer, unless the peer is one of `server.trusted_proxies`: then X-Forwarded-For is read
// from the right, skipping trusted hops, and the first untrusted hop is the client (so a
// client cannot spoof its address by sending its own X-Forwarded-For through a proxy that
// appends). X-Real-IP is used when there is no X-Forwarded-For. Headers from untrusted peers
// are ignored. Pure functions, run once per handshake.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "config/gateway_config.h"

namespace wsgated::net {

bool cidr_contains(const config::cidr& net, const boost::asio::ip::address& a);
bool is_trusted(const std::vector<config::cidr>& trusted, const boost::asio::ip::address& a);

// `xff` holds every X-Forwarded-For header value in order (one header may list several hops).
boost::asio::ip::address client_address(const boost::asio::ip::address& peer,
                                        const std::vector<config::cidr>& trusted,
                                        const std::vector<std::string_view>& xff,
                                        std::string_view x_real_ip);

// "1.2.3.4", "::1" (IPv4-mapped IPv6 addresses are shown as IPv4).
std::string address_text(const boost::asio::ip::address& a);

}  // namespace wsgated::net
