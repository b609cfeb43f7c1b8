// histogram: a log-bucket latency histogram (16 sub-buckets per power of two, so any value is
// reported within 1/16 of itself). One per worker thread, merged at the end; record() is a
// few instructions and never allocates, so it sits on the per-message path.
#pragma once

#include <array>
#include <cstdint>

namespace wsbench {

class histogram {
public:
    void record(std::uint64_t v) {
        ++counts_[index(v)];
        ++n_;
        sum_ += v;
        if (v > max_) max_ = v;
    }
    void merge(const histogram& o);
    std::uint64_t count() const { return n_; }
    std::uint64_t max() const { return max_; }
    double mean() const { return n_ ? double(sum_) / double(n_) : 0.0; }
    // The value at quantile q (0..1]: the upper edge of its bucket, never above max().
    std::uint64_t quantile(double q) const;

private:
    static constexpr unsigned sub = 16;  // sub-buckets per power of two
    static constexpr unsigned size = (64 - 3) * sub;
    static unsigned index(std::uint64_t v) {
        if (v < sub) return unsigned(v);
        unsigned e = 63 - unsigned(__builtin_clzll(v));  // v in [2^e, 2^(e+1))
        return (e - 3) * sub + unsigned((v >> (e - 4)) & (sub - 1));
    }
    static std::uint64_t upper_edge(unsigned i);

    std::array<std::uint64_t, size> counts_{};
    std::uint64_t n_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace wsbench
