#include "http_reader.h"

#include <strings.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace wsbench {
namespace {

constexpr std::size_t max_head = 16 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

// Gathers one CRLF-terminated line (or the whole head, for st::head) into buf_, a line at a
// time (memchr), not a byte at a time: http mode reads a head per request.
bool http_reader::take_line(const std::uint8_t*& p, std::size_t& n, std::size_t& used) {
    std::string_view end = st_ == st::head ? "\r\n\r\n" : "\r\n";
    while (n > 0) {
        auto* nl = static_cast<const std::uint8_t*>(std::memchr(p, '\n', n));
        std::size_t take = nl ? std::size_t(nl - p) + 1 : n;
        buf_.append(reinterpret_cast<const char*>(p), take);
        p += take, n -= take, used += take;
        if (nl && buf_.size() >= end.size() &&
            buf_.compare(buf_.size() - end.size(), end.size(), end) == 0)
            return true;
    }
    return false;
}

http_reader::result http_reader::parse_head() {
    std::string_view h(buf_);
    if (h.substr(0, 9) != "HTTP/1.1 " && h.substr(0, 9) != "HTTP/1.0 ") return why_ = "not HTTP/1.x", result::bad;
    status_ = std::atoi(buf_.c_str() + 9);
    close_ = h.substr(0, 9) == "HTTP/1.0 ";
    bool chunked = false, has_length = false;
    std::uint64_t length = 0;
    for (auto eol = h.find("\r\n"); eol != std::string_view::npos; eol = h.find("\r\n")) {
        h.remove_prefix(eol + 2);
        std::string_view line = h.substr(0, h.find("\r\n"));
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Length")) has_length = true, length = std::strtoull(std::string(value).c_str(), nullptr, 10);
        else if (iequals(name, "Transfer-Encoding")) chunked = value.find("chunked") != std::string_view::npos;
        else if (iequals(name, "Connection")) close_ = iequals(value, "close");
    }
    buf_.clear();
    body_ = 0;
    bool no_body = status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200);
    if (chunked && !no_body) return st_ = st::chunk_size, result::more;
    if (!has_length && !no_body) return why_ = "answer without Content-Length", result::bad;
    left_ = no_body ? 0 : length;
    body_ = left_;
    st_ = st::body;
    return left_ == 0 ? (st_ = st::head, result::answer) : result::more;
}

http_reader::result http_reader::on_chunk_size() {
    left_ = std::strtoull(buf_.c_str(), nullptr, 16);
    buf_.clear();
    body_ += left_;
    st_ = left_ == 0 ? st::trailer : st::chunk_data;
    return result::more;
}

http_reader::result http_reader::feed(const std::uint8_t* p, std::size_t n, std::size_t& used) {
    used = 0;
    while (n > 0) {
        if (st_ == st::body || st_ == st::chunk_data) {
            std::size_t take = n < left_ ? n : std::size_t(left_);
            p += take, n -= take, used += take, left_ -= take;
            if (left_ > 0) return result::more;
            if (st_ == st::body) return st_ = st::head, result::answer;
            st_ = st::chunk_end;
            continue;
        }
        if (!take_line(p, n, used)) {
            if (buf_.size() > max_head) return why_ = "answer head too long", result::bad;
            return result::more;
        }
        if (st_ == st::head) {
            if (result r = parse_head(); r != result::more) return r;
        } else if (st_ == st::chunk_size) {
            on_chunk_size();
        } else if (st_ == st::chunk_end) {
            buf_.clear();
            st_ = st::chunk_size;
        } else if (buf_ == "\r\n") {  // trailer: an empty line ends the answer
            buf_.clear();
            st_ = st::head;
            return result::answer;
        } else {
            buf_.clear();
        }
    }
    return result::more;
}

}  // namespace wsbench
