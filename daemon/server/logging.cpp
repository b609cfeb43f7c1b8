// logging: see logging.h.
#include "server/logging.h"

#include <chrono>
#include <ctime>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace wsgated::server {
namespace {

void append(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

void append_json_escaped(spdlog::memory_buf_t& dest, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned char c : s) {
        switch (c) {
        case '"': append(dest, "\\\""); break;
        case '\\': append(dest, "\\\\"); break;
        case '\n': append(dest, "\\n"); break;
        case '\r': append(dest, "\\r"); break;
        case '\t': append(dest, "\\t"); break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                dest.append(esc, esc + 6);
            } else {
                dest.push_back(static_cast<char>(c));
            }
        }
    }
}

// The level as the configuration spells it (server.log.level): spdlog says "warning" where the
// config says "warn", and a log filter on what the config says would miss it.
std::string_view level_name(spdlog::level::level_enum l) {
    switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
    }
}

// %L in the text pattern: level_name().
class level_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        append(dest, level_name(msg.level));
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<level_flag>(); }
};

void append_time(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point tp) {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(tp);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp - secs).count();
    std::time_t t = spdlog::log_clock::to_time_t(tp);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    n += std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
    dest.append(buf, buf + n);
}

// {"time":"2026-11-24T05:00:00.123Z","level":"info","msg":"…"} — one object per line, so that
// journald, Loki or jq read it without a parser of ours.
class json_formatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        append(dest, "{\"time\":\"");
        append_time(dest, msg.time);
        append(dest, "\",\"level\":\"");
        append(dest, level_name(msg.level));
        append(dest, "\",\"msg\":\"");
        append_json_escaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
        append(dest, "\"}\n");
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_formatter>();
    }
};

}  // namespace

namespace {

std::unique_ptr<spdlog::formatter> make_formatter(config::log_format format) {
    if (format == config::log_format::json) return std::make_unique<json_formatter>();
    auto text = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    text->add_flag<level_flag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %* %v");
    return text;
}

}  // namespace

bool setup_logging(const config::log_config& cfg) {
    auto level = spdlog::level::from_str(cfg.level);
    if (level == spdlog::level::off && cfg.level != "off") return false;
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(make_formatter(cfg.format));
    auto logger = std::make_shared<spdlog::logger>("wsgated", std::move(sink));
    logger->set_level(level);
    logger->flush_on(spdlog::level::trace);  // stderr is unbuffered anyway; keep lines whole
    spdlog::set_default_logger(std::move(logger));
    return true;
}

// The logger stays: spdlog::info() on a worker uses the default logger by raw pointer, so
// replacing it under a running worker could free it mid-call. Its level is atomic and its
// sink swaps formatters under the sink's own lock.
bool reconfigure_logging(const config::log_config& cfg) {
    auto level = spdlog::level::from_str(cfg.level);
    if (level == spdlog::level::off && cfg.level != "off") return false;
    auto logger = spdlog::default_logger();
    logger->set_formatter(make_formatter(cfg.format));
    logger->set_level(level);
    return true;
}

}  // namespace wsgated::server
