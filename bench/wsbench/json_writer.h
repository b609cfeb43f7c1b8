// json_writer: builds wsbench's one-line JSON result (README.md's schema). Keys are ours and
// need no escaping; string values (URLs, TLS names) are escaped.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace wsbench {

class json_writer {
public:
    json_writer& open(const char* key = nullptr) { return begin(key, '{'); }
    json_writer& close() { return end('}'); }
    json_writer& open_array(const char* key) { return begin(key, '['); }
    json_writer& close_array() { return end(']'); }

    json_writer& num(const char* key, std::uint64_t v) { return raw(key, std::to_string(v)); }
    json_writer& num(const char* key, double v) {
        if (!std::isfinite(v)) return raw(key, "null");
        char buf[48];
        std::snprintf(buf, sizeof buf, "%.10g", v);
        return raw(key, buf);
    }
    json_writer& boolean(const char* key, bool v) { return raw(key, v ? "true" : "false"); }
    json_writer& str(const char* key, std::string_view v) {
        std::string s = "\"";
        for (char ch : v) {
            auto c = static_cast<unsigned char>(ch);
            if (c == '"' || c == '\\') s += '\\', s += ch;
            else if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                s += buf;
            } else s += ch;
        }
        return raw(key, s + "\"");
    }
    const std::string& text() const { return out_; }

private:
    void separate(const char* key) {
        if (!first_.empty()) {
            if (!first_.back()) out_ += ',';
            first_.back() = false;
        }
        if (key) out_ += std::string("\"") + key + "\":";
    }
    json_writer& raw(const char* key, const std::string& v) {
        separate(key);
        out_ += v;
        return *this;
    }
    json_writer& begin(const char* key, char c) {
        separate(key);
        out_ += c;
        first_.push_back(true);
        return *this;
    }
    json_writer& end(char c) {
        out_ += c;
        first_.pop_back();
        return *this;
    }

    std::string out_;
    std::vector<bool> first_;
};

}  // namespace wsbench
