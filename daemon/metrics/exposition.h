// exposition: the `GET /metrics` body, Prometheus text format 0.0.4, written by prometheus-cpp's
// TextSerializer from the metric families of a scrape (our per-worker registry, the process
// collector's prometheus::Registry). The admin listener calls it (through
// gateway_metrics::scrape) on its own thread at scrape time, so allocation here is fine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

namespace wsgated::metrics {

// The Content-Type `GET /metrics` answers with.
inline constexpr std::string_view text_content_type = "text/plain; version=0.0.4; charset=utf-8";

std::string serialize(const std::vector<prometheus::MetricFamily>& families);

}  // namespace wsgated::metrics
