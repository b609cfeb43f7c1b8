// registry: the metric families of one process and their cells (counter, gauge, histogram).
//
// Owned by gateway_metrics (one per daemon; tests make their own), so there is no global
// metric state. A family has a name, help text and fixed label names; `with(values)` hands out
// the cell for one set of label values. `with` takes the family's mutex and may allocate, so
// callers do it once per connection / route / backend and keep the reference; the cell's own
// operations (inc, dec, set, observe) are lock-free and never allocate, so they are safe on
// the per-message path of any worker. Cells are never freed while the registry lives, so the
// references stay valid. exposition reads the cells at scrape time on the admin thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wsgated::metrics {

enum class metric_type { counter, gauge, histogram };

// Cells are 64-byte aligned (one cache line each): two hot counters bumped by different
// workers must not share a line, or every increment would bounce it between cores.
inline constexpr std::size_t cell_alignment = 64;

// Monotonic count. Relaxed ordering: the value publishes no other memory, and each
// fetch_add is still an exact read-modify-write, so concurrent increments never get lost.
class alignas(cell_alignment) counter {
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down. Integer, because every gauge in SPEC §7 counts things
// (connections, rooms, a 0/1 flag): integer fetch_add is one instruction, a double would
// need a CAS loop.
class alignas(cell_alignment) gauge {
public:
    void inc(std::int64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    void dec(std::int64_t n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
    void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
    std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

// Distribution of durations in seconds over fixed upper bounds (`le`, inclusive).
//
// Each bucket counts only its own observations (not cumulative): observe() is then one
// fetch_add on the bucket plus one on the sum. The count is the sum of the buckets, computed
// at scrape, so `_count` always equals the `+Inf` bucket even while workers observe.
//
// The sum is atomic integer nanoseconds, not a double: fetch_add on an integer is a single
// lock-free instruction (a double needs a compare-exchange loop that retries under
// contention), and integer addition is exact and order-independent. 2^64 ns is 584 years of
// summed time; 1 ns resolution is far below anything we time.
class alignas(cell_alignment) histogram {
public:
    // Enough for any sensible layout (Prometheus advises about 10-20 buckets); storing the
    // buckets inline keeps observe() free of a pointer chase and of any allocation.
    static constexpr std::size_t max_bounds = 32;

    // `bounds` must outlive the cell (it points into the owning family).
    explicit histogram(std::span<const double> bounds) noexcept;

    // NaN is dropped (it belongs to no bucket); negative values count as 0 in the sum.
    void observe(double seconds) noexcept;

    std::span<const double> bounds() const noexcept { return bounds_; }
    // Observations in bucket i alone; i == bounds().size() is the +Inf bucket.
    std::uint64_t bucket_count(std::size_t i) const noexcept;
    std::uint64_t count() const noexcept;
    double sum() const noexcept;

private:
    std::span<const double> bounds_;
    std::atomic<std::uint64_t> sum_ns_{0};
    std::array<std::atomic<std::uint64_t>, max_bounds + 1> buckets_{};
};

// Name checks from the Prometheus data model; registration asserts them.
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

// What every family has, whatever its cell type. exposition walks these.
class family_base {
public:
    family_base(metric_type type, std::string name, std::string help,
                std::vector<std::string> labels, std::vector<double> bounds);
    virtual ~family_base() = default;
    family_base(const family_base&) = delete;
    family_base& operator=(const family_base&) = delete;

    metric_type type() const noexcept { return type_; }
    const std::string& name() const noexcept { return name_; }
    const std::string& help() const noexcept { return help_; }
    const std::vector<std::string>& label_names() const noexcept { return label_names_; }
    const std::vector<double>& bounds() const noexcept { return bounds_; }

protected:
    mutable std::mutex mutex_;  // guards the cell map of the derived family, never a cell

private:
    metric_type type_;
    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::vector<double> bounds_;  // histograms only; cells point into it
};

using label_values = std::vector<std::string>;

template <class Cell>
class family final : public family_base {
public:
    using visitor = std::function<void(const label_values&, const Cell&)>;

    // Unlabelled families create their single cell here, so it is exposed (as 0) from the
    // first scrape on.
    family(metric_type type, std::string name, std::string help, std::vector<std::string> labels,
           std::vector<double> bounds = {});

    // The cell for these label values (one per label name, in order), created on first use.
    // Takes the mutex and may allocate: call once per connection/route/backend, not per
    // message. A wrong number of values is a bug in the caller (asserted); release builds pad
    // or truncate so the exposition stays valid.
    Cell& with(std::initializer_list<std::string_view> values);

    // Calls `fn` for every cell, sorted by label values, under the family's mutex.
    void for_each(const visitor& fn) const;

private:
    std::unique_ptr<Cell> make_cell() const;

    std::map<label_values, std::unique_ptr<Cell>> cells_;
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

extern template class family<counter>;
extern template class family<gauge>;
extern template class family<histogram>;

class registry {
public:
    registry() = default;
    registry(const registry&) = delete;  // cells are handed out by reference
    registry& operator=(const registry&) = delete;

    // Counter names get a `_total` suffix if they lack one, as the text format expects.
    // Names must be valid and unique; label names valid; histogram bounds finite, strictly
    // increasing, at most histogram::max_bounds (a trailing +Inf is implied and dropped).
    // All of this is asserted: registration happens once, at startup, from our own list.
    counter_family& add_counter(std::string name, std::string help,
                                std::vector<std::string> label_names = {});
    gauge_family& add_gauge(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
    histogram_family& add_histogram(std::string name, std::string help, std::vector<double> bounds,
                                    std::vector<std::string> label_names = {});

    // Every family in registration order, under the registry's mutex.
    void for_each_family(const std::function<void(const family_base&)>& fn) const;

private:
    template <class F>
    F& add(std::unique_ptr<F> f);

    mutable std::mutex mutex_;  // guards families_ (registration vs scrape)
    std::vector<std::unique_ptr<family_base>> families_;
};

}  // namespace wsgated::metrics
