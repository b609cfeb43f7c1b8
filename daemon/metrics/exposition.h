// exposition: writes metrics in the Prometheus text format 0.0.4 (what `GET /metrics` serves).
//
// Stateless functions; the admin listener calls them (through gateway_metrics::scrape) on its
// own thread at scrape time, so allocation here is fine. Output is what Prometheus's own
// parser accepts and `promtool check metrics` finds no fault with: HELP and TYPE once per
// family, escaped help and label values, label values forced to valid UTF-8, histogram
// buckets cumulative up to le="+Inf", numbers Prometheus parses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "metrics/registry.h"

namespace wsgated::metrics {

// The Content-Type `GET /metrics` answers with.
inline constexpr std::string_view text_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Shortest text that parses back to `v`: integers below 2^53 without exponent ("3", "-2"),
// others like Go's %g ("0.0005", "1e-05", "1.5e+300"), and "+Inf", "-Inf", "NaN".
std::string format_double(double v);

void append_number(std::string& out, double v);
void append_number(std::string& out, std::uint64_t v);
void append_number(std::string& out, std::int64_t v);

// HELP text: `\` and newline escaped. Label values: `\`, `"` and newline escaped. Both
// replace bytes that are not valid UTF-8 with U+FFFD, because Prometheus rejects the whole
// scrape over one invalid label value.
void append_escaped_help(std::string& out, std::string_view help);
void append_escaped_label_value(std::string& out, std::string_view value);

// `# HELP name help` and `# TYPE name type` lines.
void append_header(std::string& out, std::string_view name, std::string_view help,
                   metric_type type);

// `name{n1="v1",n2="v2",le="x"} ` — a sample up to its value (and the space before it).
// `le` is added last when not empty; `names` and `values` have the same length.
void append_series(std::string& out, std::string_view name, std::span<const std::string> names,
                   std::span<const std::string> values, std::string_view le = {});

// Every family of `r` in registration order; cells sorted by label values.
void append_registry(std::string& out, const registry& r);
std::string expose(const registry& r);

}  // namespace wsgated::metrics
