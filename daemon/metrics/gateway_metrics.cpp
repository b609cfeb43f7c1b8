// gateway_metrics: see gateway_metrics.h.
#include "metrics/gateway_metrics.h"

#include <vector>

#include "metrics/exposition.h"
#include "metrics/process_metrics.h"

namespace wsgated::metrics {

namespace {

template <std::size_t N>
std::vector<double> bounds_of(const std::array<double, N>& buckets) {
    return {buckets.begin(), buckets.end()};
}

}  // namespace

// Each entry of the list registers its family, in list order; unlabelled ones hand their
// single cell to the member.
#define WSGATED_I_COUNTER(member, name, help) , member(registry_.add_counter(name, help).with({}))
#define WSGATED_I_COUNTER_FAMILY(member, name, help, ...) \
    , member(registry_.add_counter(name, help, {__VA_ARGS__}))
#define WSGATED_I_GAUGE(member, name, help) , member(registry_.add_gauge(name, help).with({}))
#define WSGATED_I_GAUGE_FAMILY(member, name, help, ...) \
    , member(registry_.add_gauge(name, help, {__VA_ARGS__}))
#define WSGATED_I_HISTOGRAM(member, name, help, buckets) \
    , member(registry_.add_histogram(name, help, bounds_of(buckets)).with({}))
#define WSGATED_I_HISTOGRAM_FAMILY(member, name, help, buckets, ...) \
    , member(registry_.add_histogram(name, help, bounds_of(buckets), {__VA_ARGS__}))

gateway_metrics::gateway_metrics(unsigned slots)
    : registry_(slots)
      WSGATED_GATEWAY_METRICS(WSGATED_I_COUNTER, WSGATED_I_COUNTER_FAMILY, WSGATED_I_GAUGE,
                              WSGATED_I_GAUGE_FAMILY, WSGATED_I_HISTOGRAM,
                              WSGATED_I_HISTOGRAM_FAMILY) {}

#undef WSGATED_I_COUNTER
#undef WSGATED_I_COUNTER_FAMILY
#undef WSGATED_I_GAUGE
#undef WSGATED_I_GAUGE_FAMILY
#undef WSGATED_I_HISTOGRAM
#undef WSGATED_I_HISTOGRAM_FAMILY

std::string gateway_metrics::scrape() const {
    auto families = registry_.Collect();
    for (auto& f : process_.collect()) families.push_back(std::move(f));
    return serialize(families);
}

}  // namespace wsgated::metrics
