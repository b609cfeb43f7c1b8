// registry: see registry.h.
#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/assert.hpp>
#include <prometheus/check_names.h>
#include <prometheus/client_metric.h>

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

constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], 0 if the byte starts none. Same rules
// as Go's utf8.ValidString, which Prometheus applies: no overlong forms, no surrogates,
// nothing above U+10FFFF.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;  // overlong
        if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;  // overlong
        if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    return n;
}

// Prometheus rejects a whole scrape over one label value that is not UTF-8: each invalid byte
// becomes U+FFFD. (Our label values come from the config and our own words; this is the net.)
std::string repaired(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) {
            out += replacement_char;
            ++i;
            continue;
        }
        out.append(s.substr(i, n));
        i += n;
    }
    return out;
}

std::vector<prometheus::ClientMetric::Label> labels_of(const family_base& f, const label_values& values) {
    std::vector<prometheus::ClientMetric::Label> out;
    for (std::size_t i = 0; i < f.label_names().size() && i < values.size(); ++i)
        out.push_back({f.label_names()[i], repaired(values[i])});
    return out;
}

// Buckets are stored per bucket; the format wants them cumulative. The count is the +Inf
// bucket from the same reads, so the two always agree.
prometheus::ClientMetric::Histogram histogram_sample(const histogram& h) {
    prometheus::ClientMetric::Histogram out;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds().size(); ++i) {
        cumulative += h.bucket_count(i);
        out.bucket.push_back({cumulative, h.bounds()[i]});
    }
    cumulative += h.bucket_count(h.bounds().size());
    out.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    out.sample_count = cumulative;
    out.sample_sum = h.sum();
    return out;
}

// prometheus-cpp's TextSerializer writes HELP as given; the format wants `\` and newline
// escaped there.
std::string escaped_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

prometheus::MetricFamily collect_family(const family_base& f) {
    prometheus::MetricFamily out{f.name(), escaped_help(f.help()), prometheus::MetricType::Untyped, {}};
    auto sample = [&](const label_values& values) -> prometheus::ClientMetric& {
        out.metric.emplace_back();
        out.metric.back().label = labels_of(f, values);
        return out.metric.back();
    };
    switch (f.type()) {
    case metric_type::counter:
        out.type = prometheus::MetricType::Counter;
        static_cast<const counter_family&>(f).for_each([&](const label_values& v, const counter& c) {
            sample(v).counter.value = static_cast<double>(c.value());
        });
        break;
    case metric_type::gauge:
        out.type = prometheus::MetricType::Gauge;
        static_cast<const gauge_family&>(f).for_each([&](const label_values& v, const gauge& g) {
            sample(v).gauge.value = static_cast<double>(g.value());
        });
        break;
    case metric_type::histogram:
        out.type = prometheus::MetricType::Histogram;
        static_cast<const histogram_family&>(f).for_each([&](const label_values& v, const histogram& h) {
            sample(v).histogram = histogram_sample(h);
        });
        break;
    }
    return out;
}

}  // namespace

counter::counter(unsigned slots) : count_(slots < 1 ? 1 : slots), slots_(new cell[count_]) {}

std::uint64_t counter::value() const noexcept {
    std::uint64_t n = 0;
    for (unsigned i = 0; i < count_; ++i) n += slots_[i].v.load(std::memory_order_relaxed);
    return n;
}

histogram::histogram(std::span<const double> bounds, unsigned slots)
    : bounds_(bounds.first(std::min(bounds.size(), max_bounds))),
      count_(slots < 1 ? 1 : slots),
      slots_(new cell[count_]) {}

void histogram::observe(double seconds) noexcept {
    if (std::isnan(seconds)) return;
    // First bound >= seconds: `le` is inclusive. Past the last bound is the +Inf bucket.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
    auto i = static_cast<std::size_t>(it - bounds_.begin());
    cell& c = slot();
    c.buckets[i].fetch_add(1, std::memory_order_relaxed);
    c.sum_ns.fetch_add(to_nanoseconds(seconds), std::memory_order_relaxed);
}

std::uint64_t histogram::bucket_count(std::size_t i) const noexcept {
    if (i > bounds_.size()) return 0;
    std::uint64_t n = 0;
    for (unsigned s = 0; s < count_; ++s) n += slots_[s].buckets[i].load(std::memory_order_relaxed);
    return n;
}

std::uint64_t histogram::count() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) n += bucket_count(i);
    return n;
}

double histogram::sum() const noexcept {
    std::uint64_t ns = 0;
    for (unsigned s = 0; s < count_; ++s) ns += slots_[s].sum_ns.load(std::memory_order_relaxed);
    return static_cast<double>(ns) / 1e9;
}

bool valid_metric_name(std::string_view name) { return prometheus::CheckMetricName(std::string(name)); }

bool valid_label_name(std::string_view name) { return prometheus::CheckLabelName(std::string(name)); }

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
                     std::vector<std::string> labels, std::vector<double> bounds, unsigned slots)
    : family_base(type, std::move(name), std::move(help), std::move(labels), std::move(bounds)), slots_(slots) {
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
        return std::make_unique<histogram>(std::span<const double>(bounds()), slots_);
    else if constexpr (std::is_same_v<Cell, counter>)
        return std::make_unique<counter>(slots_);
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
                                                std::move(help), std::move(label_names),
                                                std::vector<double>{}, slots_));
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
                                                  checked_bounds(std::move(bounds)), slots_));
}

std::vector<prometheus::MetricFamily> registry::Collect() const {
    std::vector<prometheus::MetricFamily> out;
    for_each_family([&](const family_base& f) { out.push_back(collect_family(f)); });
    return out;
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
