#include "stats.h"

namespace wsbench {

const char* err_name(err e) {
    static const char* const names[] = {"connect", "handshake", "timeout", "tls", "protocol",
                                        "mismatch", "closed", "lost", "http", "none"};
    return names[unsigned(e)];
}

std::uint64_t stats::error_total() const {
    std::uint64_t t = 0;
    for (auto e : errors) t += e;
    return t;
}

void stats::merge(const stats& o) {
    ops += o.ops;
    sent += o.sent;
    received += o.received;
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
    established += o.established;
    failed += o.failed;
    handshakes += o.handshakes;
    cycles += o.cycles;
    negotiated += o.negotiated;
    compressed += o.compressed;
    for (unsigned i = 0; i < err_kinds; ++i) errors[i] += o.errors[i];
    latency.merge(o.latency);
}

}  // namespace wsbench
