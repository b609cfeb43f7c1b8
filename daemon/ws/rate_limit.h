// rate_limit: server.limits.messages_per_second as a token bucket per connection, burst = 2x
// the rate (SPEC §2). Over it, the route's `rate_limit` decides: close 1008 "rate limited", or
// drop the message and count it. Owned by one session; one clock read per message.
#pragma once

#include <chrono>
#include <cstdint>

namespace wsgated::ws {

class rate_limit {
public:
    using clock = std::chrono::steady_clock;

    // rate 0 = unlimited. The bucket starts full.
    rate_limit(std::uint32_t per_second, clock::time_point now);

    // Takes one token; false when the message is over the limit.
    bool allow(clock::time_point now);

private:
    double rate_;     // tokens per second
    double burst_;    // bucket size
    double tokens_;
    clock::time_point last_;
};

}  // namespace wsgated::ws
