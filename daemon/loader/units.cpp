// units: see units.h.
#include "loader/units.h"

#include <array>
#include <charconv>
#include <limits>

namespace wsgated::config {
namespace {

struct unit {
    std::string_view name;
    std::uint64_t factor;
};

constexpr std::array<unit, 4> duration_units{{{"ms", 1}, {"s", 1000}, {"m", 60'000},
                                              {"h", 3'600'000}}};

constexpr std::array<unit, 7> size_units{{{"B", 1},
                                          {"KB", 1000},
                                          {"MB", 1000'000},
                                          {"GB", 1000'000'000},
                                          {"KiB", 1ull << 10},
                                          {"MiB", 1ull << 20},
                                          {"GiB", 1ull << 30}}};

// Splits "64KiB" into 64 and "KiB". `what` names the kind of value for the reason.
bool split_number(std::string_view text, std::string_view what, std::uint64_t& number,
                  std::string_view& suffix, std::string& error) {
    if (text.empty()) {
        error = "empty value; expected a " + std::string(what) +
                (what == "duration" ? " such as 30s" : " such as 64KiB");
        return false;
    }
    if (text.front() == '-') { error = std::string(what) + " must not be negative"; return false; }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc::result_out_of_range) {
        error = std::string(what) + " '" + std::string(text) + "' is too large";
        return false;
    }
    if (ec != std::errc{}) {
        error = "'" + std::string(text) + "' is not a " + std::string(what);
        return false;
    }
    suffix = text.substr(static_cast<std::size_t>(end - text.data()));
    if (!suffix.empty() && suffix.front() == '.') {
        error = std::string(what) + " must be a whole number (write " +
                (what == "duration" ? "1500ms, not 1.5s)" : "1536KiB, not 1.5MiB)");
        return false;
    }
    return true;
}

template <std::size_t N>
const unit* find_unit(const std::array<unit, N>& units, std::string_view name) {
    for (const auto& u : units)
        if (u.name == name) return &u;
    return nullptr;
}

// number × factor, refusing what does not fit in `max`.
bool scale(std::uint64_t number, std::uint64_t factor, std::uint64_t max, std::string_view text,
           std::string_view what, std::uint64_t& out, std::string& error) {
    if (number > max / factor) {
        error = std::string(what) + " '" + std::string(text) + "' is too large";
        return false;
    }
    out = number * factor;
    return true;
}

template <std::size_t N>
std::string format_exact(std::uint64_t value, const std::array<unit, N>& units,
                         std::string_view bare_unit) {
    if (value == 0) return "0";
    for (auto it = units.rbegin(); it != units.rend(); ++it)
        if (it->factor > 1 && value % it->factor == 0)
            return std::to_string(value / it->factor) + std::string(it->name);
    return std::to_string(value) + std::string(bare_unit);
}

}  // namespace

bool parse_duration(std::string_view text, duration& out, std::string& error) {
    std::uint64_t number = 0;
    std::string_view suffix;
    if (!split_number(text, "duration", number, suffix, error)) return false;
    if (suffix.empty()) {
        if (number == 0) { out = duration(0); return true; }
        error = "duration '" + std::string(text) + "' needs a unit: ms, s, m or h (e.g. " +
                std::string(text) + "s)";
        return false;
    }
    const unit* u = find_unit(duration_units, suffix);
    if (!u) {
        error = "unknown duration unit '" + std::string(suffix) + "' (use ms, s, m or h)";
        return false;
    }
    std::uint64_t ms = 0;
    constexpr auto max_ms = static_cast<std::uint64_t>(std::numeric_limits<duration::rep>::max());
    if (!scale(number, u->factor, max_ms, text, "duration", ms, error)) return false;
    out = duration(static_cast<duration::rep>(ms));
    return true;
}

bool parse_size(std::string_view text, std::uint64_t& out, std::string& error) {
    std::uint64_t number = 0;
    std::string_view suffix;
    if (!split_number(text, "size", number, suffix, error)) return false;
    if (suffix.empty()) { out = number; return true; }
    const unit* u = find_unit(size_units, suffix);
    if (!u) {
        error = "unknown size unit '" + std::string(suffix) +
                "' (use B, KB, MB, GB, KiB, MiB or GiB)";
        return false;
    }
    return scale(number, u->factor, std::numeric_limits<std::uint64_t>::max(), text, "size", out,
                 error);
}

std::string format_duration(duration d) {
    // Durations are never negative here: the parser refuses a sign.
    return format_exact(static_cast<std::uint64_t>(d.count()), duration_units, "ms");
}

std::string format_size(std::uint64_t bytes) {
    // Only the binary units, so that a limit reads the way the defaults are written (4MiB).
    constexpr std::array<unit, 4> binary{{{"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20},
                                          {"GiB", 1ull << 30}}};
    return format_exact(bytes, binary, "");
}

}  // namespace wsgated::config
