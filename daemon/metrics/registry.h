// registry: the metric families of one process and their cells (counter, gauge, histogram),
// counted per worker and exposed through prometheus-cpp.
//
// Owned by gateway_metrics (one per daemon; tests make their own), so there is no global
// metric state. A family has a name, help text and fixed label names; `with(values)` hands out
// the cell for one set of label values. `with` takes the family's mutex and may allocate, so
// callers do it once per connection / route / backend and keep the reference; the cell's own
// operations (inc, dec, set, observe) are lock-free and never allocate, so they are safe on
// the per-message path of any worker. Cells are never freed while the registry lives, so the
// references stay valid.
//
// Why not prometheus::Counter and Histogram on the hot path: prometheus-cpp's Counter is an
// atomic double bumped by a compare-exchange loop, and its Histogram takes a mutex per
// observation; both are shared by every worker. Here a counter or histogram keeps one slot per
// worker (its own cache line), so a worker's increment is an uncontended relaxed add on a line
// no other core writes. The registry is a prometheus::Collectable: at scrape it sums the slots
// into prometheus::MetricFamily values, which prometheus-cpp's TextSerializer writes
// (metrics/exposition).
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

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace wsgated::metrics {

// Which slot of a counter or histogram this thread counts into: each worker thread takes its
// own (1 + its index) when it starts; every other thread (control, admin, tests) shares slot 0.
// A slot past a registry's count folds into slot 0: still exact (every slot is atomic), only
// shared.
namespace detail {
inline thread_local unsigned current_slot = 0;
}
inline void set_thread_slot(unsigned slot) noexcept { detail::current_slot = slot; }
inline unsigned thread_slot() noexcept { return detail::current_slot; }

enum class metric_type { counter, gauge, histogram };

// Cells are 64-byte aligned (one cache line each): two hot counters bumped by different
// workers must not share a line, or every increment would bounce it between cores.
inline constexpr std::size_t cell_alignment = 64;

// Monotonic count, one slot per worker. Relaxed ordering: the value publishes no other memory,
// and each fetch_add is still an exact read-modify-write, so concurrent increments (two
// threads on slot 0) never get lost. value() sums the slots: exact once writers are quiet,
// a value between two reads' totals while they count.
class counter {
public:
    explicit counter(unsigned slots = 1);
    void inc(std::uint64_t n = 1) noexcept { slot().fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept;

private:
    struct alignas(cell_alignment) cell {
        std::atomic<std::uint64_t> v{0};
    };
    std::atomic<std::uint64_t>& slot() noexcept {
        unsigned s = thread_slot();
        return slots_[s < count_ ? s : 0].v;
    }

    unsigned count_;
    std::unique_ptr<cell[]> slots_;
};

// A value that goes up and down. Integer, because every gauge in SPEC §7 counts things
// (connections, rooms, a 0/1 flag): integer fetch_add is one instruction, a double would
// need a CAS loop. One value, not per worker: gauges change per connection, not per message,
// and set() needs a single place.
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
class histogram {
public:
    // Enough for any sensible layout (Prometheus advises about 10-20 buckets); storing the
    // buckets inline in each slot keeps observe() free of any allocation.
    static constexpr std::size_t max_bounds = 32;

    // `bounds` must outlive the cell (it points into the owning family).
    explicit histogram(std::span<const double> bounds, unsigned slots = 1);

    // NaN is dropped (it belongs to no bucket); negative values count as 0 in the sum.
    void observe(double seconds) noexcept;

    std::span<const double> bounds() const noexcept { return bounds_; }
    // Observations in bucket i alone; i == bounds().size() is the +Inf bucket.
    std::uint64_t bucket_count(std::size_t i) const noexcept;
    std::uint64_t count() const noexcept;
    double sum() const noexcept;

private:
    // One worker's share: its own cache lines (the array is a multiple of the alignment).
    struct alignas(cell_alignment) cell {
        std::atomic<std::uint64_t> sum_ns{0};
        std::array<std::atomic<std::uint64_t>, max_bounds + 1> buckets{};
    };
    cell& slot() noexcept {
        unsigned s = thread_slot();
        return slots_[s < count_ ? s : 0];
    }

    std::span<const double> bounds_;
    unsigned count_;
    std::unique_ptr<cell[]> slots_;
};

// Name checks from the Prometheus data model (prometheus-cpp's); registration asserts them.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

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
           std::vector<double> bounds = {}, unsigned slots = 1);

    // The cell for these label values (one per label name, in order), created on first use.
    // Takes the mutex and may allocate: call once per connection/route/backend, not per
    // message. A wrong number of values is a bug in the caller (asserted); release builds pad
    // or truncate so the exposition stays valid.
    Cell& with(std::initializer_list<std::string_view> values);

    // Calls `fn` for every cell, sorted by label values, under the family's mutex.
    void for_each(const visitor& fn) const;

private:
    std::unique_ptr<Cell> make_cell() const;

    unsigned slots_;
    std::map<label_values, std::unique_ptr<Cell>> cells_;
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

extern template class family<counter>;
extern template class family<gauge>;
extern template class family<histogram>;

class registry final : public prometheus::Collectable {
public:
    // `slots`: 1 + the number of workers (every other thread shares slot 0).
    explicit registry(unsigned slots = 1) : slots_(slots < 1 ? 1 : slots) {}
    registry(const registry&) = delete;  // cells are handed out by reference
    registry& operator=(const registry&) = delete;

    // prometheus::Collectable: every family in registration order, cells sorted by label
    // values, each counter and histogram summed over its slots. Label values that are not
    // valid UTF-8 are repaired (Prometheus rejects a whole scrape over one).
    std::vector<prometheus::MetricFamily> Collect() const override;

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

    unsigned slots_;
    mutable std::mutex mutex_;  // guards families_ (registration vs scrape)
    std::vector<std::unique_ptr<family_base>> families_;
};

}  // namespace wsgated::metrics
