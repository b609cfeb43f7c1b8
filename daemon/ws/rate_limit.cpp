// rate_limit: see rate_limit.h.
#include "ws/rate_limit.h"

#include <algorithm>

namespace wsgated::ws {

rate_limit::rate_limit(std::uint32_t per_second, clock::time_point now)
    : rate_(per_second), burst_(2.0 * per_second), tokens_(burst_), last_(now) {}

bool rate_limit::allow(clock::time_point now) {
    if (rate_ == 0) return true;
    std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

}  // namespace wsgated::ws
