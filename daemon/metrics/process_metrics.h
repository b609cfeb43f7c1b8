// process_metrics: the standard `process_*` metrics of this process (CPU time, memory, file
// descriptors, start time), as client libraries in every language export them.
//
// Not counted by us: the kernel already counts these, so they are read from /proc at scrape
// time, on the admin thread, by gateway_metrics::scrape, into prometheus-cpp's own Registry
// (process_collector). A value that cannot be read (no /proc, say in a sandbox) is left out of
// the scrape rather than reported as 0.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace wsgated::metrics {

struct process_metrics {
    std::optional<double> cpu_seconds;            // utime + stime, /proc/self/stat
    std::optional<double> resident_memory_bytes;  // rss pages * page size, /proc/self/stat
    std::optional<double> virtual_memory_bytes;   // vsize, /proc/self/stat
    std::optional<double> open_fds;               // entries of /proc/self/fd
    std::optional<double> max_fds;                // soft "Max open files", /proc/self/limits
    std::optional<double> start_time_seconds;     // btime (/proc/stat) + starttime

    // Reads everything now. A few small procfs reads; no allocation beyond the file texts.
    static process_metrics read();
};

// The process_* families on a prometheus::Registry, set from a reading at each scrape.
class process_collector {
public:
    process_collector();

    // The families of every value `m` holds (the CPU counter, then the gauges in the order
    // of process_metrics); a value it lacks is left out until a reading has it again.
    std::vector<prometheus::MetricFamily> collect(const process_metrics& m);
    std::vector<prometheus::MetricFamily> collect() { return collect(process_metrics::read()); }

private:
    struct gauge_entry {
        prometheus::Family<prometheus::Gauge>* family;
        std::optional<double> process_metrics::*field;
        prometheus::Gauge* cell = nullptr;  // present while the value could be read
    };

    std::mutex mutex_;  // two scrapes at once: one reading at a time moves the counter
    prometheus::Registry registry_;
    prometheus::Family<prometheus::Counter>& cpu_;
    prometheus::Counter* cpu_cell_ = nullptr;
    std::array<gauge_entry, 5> gauges_;
};

// The fields of /proc/<pid>/stat we use, in the kernel's units (clock ticks, pages, bytes).
struct proc_stat_fields {
    double utime_ticks = 0;
    double stime_ticks = 0;
    double start_ticks = 0;  // since boot
    double vsize_bytes = 0;
    double rss_pages = 0;
};

// Parsers over file text, separate from the reads so tests can feed them what they like.
// The command name in /proc/<pid>/stat may hold spaces and ')', hence "after the last ')'".
std::optional<proc_stat_fields> parse_proc_stat(std::string_view text);
// Soft limit of the "Max open files" row; "unlimited" is +Inf.
std::optional<double> parse_max_open_files(std::string_view limits_text);
// The "btime" row of /proc/stat: boot time in seconds since the epoch.
std::optional<double> parse_boot_time(std::string_view proc_stat_text);

}  // namespace wsgated::metrics
