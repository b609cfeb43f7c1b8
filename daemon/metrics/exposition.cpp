// exposition: see exposition.h.
#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace wsgated::metrics {

namespace {

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

// HELP accepts only `\\` and `\n` escapes (a `\"` there is a parse error), label values
// also `\"`.
void append_escaped(std::string& out, std::string_view s, bool escape_quote) {
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) {
            out += replacement_char;
            ++i;
            continue;
        }
        char c = s[i];
        if (n > 1) out.append(s.substr(i, n));
        else if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '"' && escape_quote) out += "\\\"";
        else out += c;
        i += n;
    }
}

std::string_view type_name(metric_type type) noexcept {
    switch (type) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
    }
    return "untyped";
}

template <class Int>
void append_integer(std::string& out, Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_counters(std::string& out, const counter_family& f) {
    f.for_each([&](const label_values& values, const counter& c) {
        append_series(out, f.name(), f.label_names(), values);
        append_number(out, c.value());
        out += '\n';
    });
}

void append_gauges(std::string& out, const gauge_family& f) {
    f.for_each([&](const label_values& values, const gauge& g) {
        append_series(out, f.name(), f.label_names(), values);
        append_number(out, g.value());
        out += '\n';
    });
}

// Buckets are stored per bucket; the format wants them cumulative. `_count` is the +Inf
// bucket from the same reads, so the two always agree.
void append_histogram(std::string& out, const histogram_family& f, const label_values& values,
                      const histogram& h) {
    const std::string bucket = f.name() + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds().size(); ++i) {
        cumulative += h.bucket_count(i);
        append_series(out, bucket, f.label_names(), values, format_double(h.bounds()[i]));
        append_number(out, cumulative);
        out += '\n';
    }
    cumulative += h.bucket_count(h.bounds().size());
    append_series(out, bucket, f.label_names(), values, "+Inf");
    append_number(out, cumulative);
    out += '\n';
    append_series(out, f.name() + "_sum", f.label_names(), values);
    append_number(out, h.sum());
    out += '\n';
    append_series(out, f.name() + "_count", f.label_names(), values);
    append_number(out, cumulative);
    out += '\n';
}

void append_family(std::string& out, const family_base& f) {
    append_header(out, f.name(), f.help(), f.type());
    switch (f.type()) {
    case metric_type::counter:
        append_counters(out, static_cast<const counter_family&>(f));
        break;
    case metric_type::gauge:
        append_gauges(out, static_cast<const gauge_family&>(f));
        break;
    case metric_type::histogram: {
        const auto& hf = static_cast<const histogram_family&>(f);
        hf.for_each([&](const label_values& values, const histogram& h) {
            append_histogram(out, hf, values, h);
        });
        break;
    }
    }
}

}  // namespace

std::string format_double(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Below 2^53 every integer is exact: print it whole ("1000000", not "1e+06").
    if (std::abs(v) < 9007199254740992.0 && v == std::trunc(v)) {
        std::string s;
        append_integer(s, static_cast<std::int64_t>(v));
        return s;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    return std::string(buf, r.ptr);
}

void append_number(std::string& out, double v) { out += format_double(v); }
void append_number(std::string& out, std::uint64_t v) { append_integer(out, v); }
void append_number(std::string& out, std::int64_t v) { append_integer(out, v); }

void append_escaped_help(std::string& out, std::string_view help) {
    append_escaped(out, help, false);
}

void append_escaped_label_value(std::string& out, std::string_view value) {
    append_escaped(out, value, true);
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   metric_type type) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped_help(out, help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type_name(type);
    out += '\n';
}

void append_series(std::string& out, std::string_view name, std::span<const std::string> names,
                   std::span<const std::string> values, std::string_view le) {
    out += name;
    if (!names.empty() || !le.empty()) {
        out += '{';
        for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
            if (i) out += ',';
            out += names[i];
            out += "=\"";
            append_escaped_label_value(out, values[i]);
            out += '"';
        }
        if (!le.empty()) {
            if (!names.empty()) out += ',';
            out += "le=\"";
            out += le;
            out += '"';
        }
        out += '}';
    }
    out += ' ';
}

void append_registry(std::string& out, const registry& r) {
    r.for_each_family([&](const family_base& f) { append_family(out, f); });
}

std::string expose(const registry& r) {
    std::string out;
    append_registry(out, r);
    return out;
}

}  // namespace wsgated::metrics
