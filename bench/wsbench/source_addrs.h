// source_addrs: the local addresses connections bind before connecting, dealt round-robin
// (127.0.0.1-127.0.0.254 on loopback). Spreading sources keeps a storm from running out of
// ephemeral ports or piling TIME_WAIT on one address, and spreads a server's per-address
// connection limit. Each worker owns a copy (no sharing on the connect path).
#pragma once

#include <cstdint>
#include <string>

#include "target.h"

namespace wsbench {

class source_addrs {
public:
    // spec: "auto", "none" or "A.B.C.D-A.B.C.E" (IPv4 only). `first_offset` staggers workers.
    bool configure(const std::string& spec, const target& t, unsigned first_offset,
                   std::string& err);
    // Binds `fd` to the next address (port chosen at connect). False with errno set on error;
    // true when there is nothing to bind.
    bool bind_next(int fd);
    std::string describe() const;

private:
    std::uint32_t first_ = 0;   // host order
    std::uint32_t count_ = 0;   // 0 = no binding
    std::uint32_t next_ = 0;
};

}  // namespace wsbench
