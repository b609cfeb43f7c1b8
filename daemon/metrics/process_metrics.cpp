// process_metrics: see process_metrics.h.
#include "metrics/process_metrics.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>


namespace wsgated::metrics {

namespace {

// procfs files report size 0, so read until EOF rather than by stat size.
std::optional<std::string> read_proc_file(const char* path) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
        if (i < s.size() && s[i] == '\n') break;  // one line only
    }
    return out;
}

std::optional<double> to_number(std::string_view token) {
    std::uint64_t v = 0;
    auto r = std::from_chars(token.data(), token.data() + token.size(), v);
    if (r.ec != std::errc{} || r.ptr != token.data() + token.size()) return std::nullopt;
    return static_cast<double>(v);
}

// The rest of the first line that starts with `prefix`.
std::optional<std::string_view> line_after(std::string_view text, std::string_view prefix) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (line.starts_with(prefix)) return line.substr(prefix.size());
        pos = end + 1;
    }
    return std::nullopt;
}

std::optional<double> count_open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return std::nullopt;
    double n = 0;
    // Counts the descriptor opendir holds too, as other client libraries do.
    while (const dirent* e = ::readdir(dir))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++n;
    ::closedir(dir);
    return n;
}

prometheus::Family<prometheus::Gauge>* gauge_family(prometheus::Registry& r, const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

}  // namespace

std::optional<proc_stat_fields> parse_proc_stat(std::string_view text) {
    std::size_t paren = text.rfind(')');
    if (paren == std::string_view::npos) return std::nullopt;
    // Tokens from field 3 (state) on: field N of proc(5) is tokens[N - 3].
    auto tokens = split_spaces(text.substr(paren + 1));
    if (tokens.size() < 22) return std::nullopt;
    auto utime = to_number(tokens[14 - 3]);
    auto stime = to_number(tokens[15 - 3]);
    auto start = to_number(tokens[22 - 3]);
    auto vsize = to_number(tokens[23 - 3]);
    auto rss = to_number(tokens[24 - 3]);
    if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
    return proc_stat_fields{*utime, *stime, *start, *vsize, *rss};
}

std::optional<double> parse_max_open_files(std::string_view limits_text) {
    auto rest = line_after(limits_text, "Max open files");
    if (!rest) return std::nullopt;
    auto tokens = split_spaces(*rest);
    if (tokens.empty()) return std::nullopt;
    if (tokens[0] == "unlimited") return std::numeric_limits<double>::infinity();
    return to_number(tokens[0]);
}

std::optional<double> parse_boot_time(std::string_view proc_stat_text) {
    auto rest = line_after(proc_stat_text, "btime ");
    if (!rest) return std::nullopt;
    auto tokens = split_spaces(*rest);
    if (tokens.empty()) return std::nullopt;
    return to_number(tokens[0]);
}

process_metrics process_metrics::read() {
    process_metrics m;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    std::optional<proc_stat_fields> st;
    if (auto text = read_proc_file("/proc/self/stat")) st = parse_proc_stat(*text);
    if (st && ticks > 0) m.cpu_seconds = (st->utime_ticks + st->stime_ticks) / ticks;
    if (st && page > 0) m.resident_memory_bytes = st->rss_pages * page;
    if (st) m.virtual_memory_bytes = st->vsize_bytes;
    m.open_fds = count_open_fds();
    if (auto text = read_proc_file("/proc/self/limits")) m.max_fds = parse_max_open_files(*text);
    std::optional<double> btime;
    if (auto text = read_proc_file("/proc/stat")) btime = parse_boot_time(*text);
    if (st && btime && ticks > 0) m.start_time_seconds = *btime + st->start_ticks / ticks;
    return m;
}

process_collector::process_collector()
    : cpu_(prometheus::BuildCounter()
               .Name("process_cpu_seconds_total")
               .Help("Total user and system CPU time spent in seconds.")
               .Register(registry_)),
      gauges_{{
          {gauge_family(registry_, "process_resident_memory_bytes", "Resident memory size in bytes."),
           &process_metrics::resident_memory_bytes},
          {gauge_family(registry_, "process_virtual_memory_bytes", "Virtual memory size in bytes."),
           &process_metrics::virtual_memory_bytes},
          {gauge_family(registry_, "process_open_fds", "Number of open file descriptors."), &process_metrics::open_fds},
          {gauge_family(registry_, "process_max_fds", "Maximum number of open file descriptors."),
           &process_metrics::max_fds},
          {gauge_family(registry_, "process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds."),
           &process_metrics::start_time_seconds},
      }} {}

// A prometheus::Counter only goes up: it is moved by what the kernel's count grew since the
// last reading (a first reading, or one after the value could not be read, starts from 0).
std::vector<prometheus::MetricFamily> process_collector::collect(const process_metrics& m) {
    std::lock_guard lock(mutex_);
    if (!m.cpu_seconds && cpu_cell_) {
        cpu_.Remove(cpu_cell_);
        cpu_cell_ = nullptr;
    } else if (m.cpu_seconds) {
        if (!cpu_cell_) cpu_cell_ = &cpu_.Add({});
        if (double grew = *m.cpu_seconds - cpu_cell_->Value(); grew > 0) cpu_cell_->Increment(grew);
    }
    for (auto& g : gauges_) {
        const auto& v = m.*g.field;
        if (!v && g.cell) {
            g.family->Remove(g.cell);
            g.cell = nullptr;
        } else if (v) {
            if (!g.cell) g.cell = &g.family->Add({});
            g.cell->Set(*v);
        }
    }
    return registry_.Collect();
}

}  // namespace wsgated::metrics
