#include "source_addrs.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace wsbench {
namespace {

bool parse_v4(const std::string& s, std::uint32_t& out) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}

std::string format_v4(std::uint32_t a) {
    in_addr x{htonl(a)};
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &x, buf, sizeof buf);
    return buf;
}

}  // namespace

bool source_addrs::configure(const std::string& spec, const target& t, unsigned first_offset,
                             std::string& err) {
    std::string range = spec;
    if (spec == "none" || (spec == "auto" && !t.is_loopback_v4())) {
        count_ = 0;
        return true;
    }
    if (spec == "auto") range = "127.0.0.1-127.0.0.254";
    auto dash = range.find('-');
    std::uint32_t a = 0, b = 0;
    if (dash == std::string::npos || !parse_v4(range.substr(0, dash), a) ||
        !parse_v4(range.substr(dash + 1), b) || b < a)
        return err = "bad --source range: " + spec, false;
    if (t.addr.ss_family != AF_INET) return err = "--source ranges are IPv4; the target is not", false;
    first_ = a;
    count_ = b - a + 1;
    next_ = first_offset % count_;
    return true;
}

bool source_addrs::bind_next(int fd) {
    if (count_ == 0) return true;
    int one = 1;
    // The port is picked at connect() time, per destination, instead of at bind(): without
    // this each bound address could only use every ephemeral port once in total.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(first_ + next_);
    next_ = (next_ + 1) % count_;
    return bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

std::string source_addrs::describe() const {
    if (count_ == 0) return "none";
    return format_v4(first_) + "-" + format_v4(first_ + count_ - 1);
}

}  // namespace wsbench
