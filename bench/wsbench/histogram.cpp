#include "histogram.h"

#include <cmath>

namespace wsbench {

void histogram::merge(const histogram& o) {
    for (unsigned i = 0; i < size; ++i) counts_[i] += o.counts_[i];
    n_ += o.n_;
    sum_ += o.sum_;
    if (o.max_ > max_) max_ = o.max_;
}

std::uint64_t histogram::upper_edge(unsigned i) {
    if (i < sub) return i;
    unsigned e = i / sub + 3;
    std::uint64_t s = i % sub;
    return ((sub + s + 1) << (e - 4)) - 1;
}

std::uint64_t histogram::quantile(double q) const {
    if (n_ == 0) return 0;
    // The rank of the q-quantile sample, 1-based: ceil(q * n), at least 1.
    auto rank = std::uint64_t(std::ceil(q * double(n_)));
    if (rank < 1) rank = 1;
    std::uint64_t seen = 0;
    for (unsigned i = 0; i < size; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            std::uint64_t v = upper_edge(i);
            return v < max_ ? v : max_;
        }
    }
    return max_;
}

}  // namespace wsbench
