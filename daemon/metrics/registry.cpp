// registry: see registry.h.
#include "metrics/registry.h"

#include <algorithm>
#include <cmath>

#include <boost/assert.hpp>

namespace wsgated::metrics {

namespace {

// One observation adds at most this much to a histogram's sum: a single absurd value (a
// clock jump, +Inf) must not wrap the 64-bit nanosecond sum. 11.5 days is no real duration.
constexpr double max_observed_seconds = 1e6;

std::uint64_t to_nanoseconds(double seconds) noexcept {
    if (!(seconds > 0)) return 0;  // negative and -0 durations add nothing
    seconds = std::min(seconds, max_observed_seconds);
    return static_cast<std::uint64_t>(seconds * 1e9 + 0.5);
}

bool name_char(char c, bool first, bool colon_ok) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
    if (c == ':') return colon_ok;
    return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon_ok) noexcept {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, colon_ok)) return false;
    return true;
}

// Drops an explicit trailing +Inf (it is always implied) and checks the rest.
std::vector<double> checked_bounds(std::vector<double> bounds) {
    if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
    BOOST_ASSERT_MSG(bounds.size() <= histogram::max_bounds, "too many histogram buckets");
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        BOOST_ASSERT_MSG(std::isfinite(bounds[i]), "histogram bounds must be finite");
        BOOST_ASSERT_MSG(i == 0 || bounds[i - 1] < bounds[i],
                         "histogram bounds must increase strictly");
    }
    return bounds;
}

}  // namespace

histogram::histogram(std::span<const double> bounds) noexcept
    : bounds_(bounds.first(std::min(bounds.size(), max_bounds))) {}

void histogram::observe(double seconds) noexcept {
    if (std::isnan(seconds)) return;
    // First bound >= seconds: `le` is inclusive. Past the last bound is the +Inf bucket.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
    auto i = static_cast<std::size_t>(it - bounds_.begin());
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(to_nanoseconds(seconds), std::memory_order_relaxed);
}

std::uint64_t histogram::bucket_count(std::size_t i) const noexcept {
    if (i > bounds_.size()) return 0;
    return buckets_[i].load(std::memory_order_relaxed);
}

std::uint64_t histogram::count() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) n += bucket_count(i);
    return n;
}

double histogram::sum() const noexcept {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
}

bool valid_metric_name(std::string_view name) noexcept { return valid_name(name, true); }

bool valid_label_name(std::string_view name) noexcept {
    return valid_name(name, false) && !name.starts_with("__");  // __ is Prometheus's own
}

family_base::family_base(metric_type type, std::string name, std::string help,
                         std::vector<std::string> labels, std::vector<double> bounds)
    : type_(type),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(labels)),
      bounds_(std::move(bounds)) {
    BOOST_ASSERT_MSG(valid_metric_name(name_), "invalid metric name");
    for (const auto& l : label_names_) {
        BOOST_ASSERT_MSG(valid_label_name(l), "invalid label name");
        BOOST_ASSERT_MSG(type_ != metric_type::histogram || l != "le",
                         "`le` is reserved for histogram buckets");
        (void)l;
    }
}

template <class Cell>
family<Cell>::family(metric_type type, std::string name, std::string help,
                     std::vector<std::string> labels, std::vector<double> bounds)
    : family_base(type, std::move(name), std::move(help), std::move(labels), std::move(bounds)) {
    if (label_names().empty()) cells_.emplace(label_values{}, make_cell());
}

template <class Cell>
Cell& family<Cell>::with(std::initializer_list<std::string_view> values) {
    BOOST_ASSERT_MSG(values.size() == label_names().size(),
                     "one label value per label name of the family");
    label_values key(label_names().size());
    auto v = values.begin();
    for (std::size_t i = 0; i < key.size() && v != values.end(); ++i, ++v) key[i] = *v;

    std::lock_guard lock(mutex_);
    auto& slot = cells_[std::move(key)];
    if (!slot) slot = make_cell();
    return *slot;
}

template <class Cell>
void family<Cell>::for_each(const visitor& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, cell] : cells_) fn(values, *cell);
}

template <class Cell>
std::unique_ptr<Cell> family<Cell>::make_cell() const {
    if constexpr (std::is_same_v<Cell, histogram>)
        return std::make_unique<histogram>(std::span<const double>(bounds()));
    else
        return std::make_unique<Cell>();
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

counter_family& registry::add_counter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
    if (!name.ends_with("_total")) name += "_total";
    return add(std::make_unique<counter_family>(metric_type::counter, std::move(name),
                                                std::move(help), std::move(label_names)));
}

gauge_family& registry::add_gauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
    return add(std::make_unique<gauge_family>(metric_type::gauge, std::move(name),
                                              std::move(help), std::move(label_names)));
}

histogram_family& registry::add_histogram(std::string name, std::string help,
                                          std::vector<double> bounds,
                                          std::vector<std::string> label_names) {
    return add(std::make_unique<histogram_family>(metric_type::histogram, std::move(name),
                                                  std::move(help), std::move(label_names),
                                                  checked_bounds(std::move(bounds))));
}

void registry::for_each_family(const std::function<void(const family_base&)>& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& f : families_) fn(*f);
}

template <class F>
F& registry::add(std::unique_ptr<F> f) {
    std::lock_guard lock(mutex_);
    BOOST_ASSERT_MSG(std::none_of(families_.begin(), families_.end(),
                                  [&](const auto& g) { return g->name() == f->name(); }),
                     "metric family registered twice");
    F& ref = *f;
    families_.push_back(std::move(f));
    return ref;
}

}  // namespace wsgated::metrics
