// http_reader: reads HTTP/1.1 answers off a keep-alive connection, one after another (the
// fanout publisher's POSTs, http mode's requests): status, Connection: close, and a body by
// Content-Length or chunked encoding, counted and skipped, never kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wsbench {

class http_reader {
public:
    enum class result { more, answer, bad };

    // Consumes bytes from p up to the end of one answer (or all n). `used` says how many;
    // `answer` means one complete answer is available through status()/closes()/body().
    result feed(const std::uint8_t* p, std::size_t n, std::size_t& used);
    int status() const { return status_; }
    bool closes() const { return close_; }
    std::uint64_t body() const { return body_; }
    const std::string& why() const { return why_; }

private:
    enum class st { head, body, chunk_size, chunk_data, chunk_end, trailer };
    result parse_head();
    bool take_line(const std::uint8_t*& p, std::size_t& n, std::size_t& used);
    result on_chunk_size();

    st st_ = st::head;
    std::string buf_;  // head, or the current chunk-size / trailer line
    std::uint64_t left_ = 0;
    std::uint64_t body_ = 0;
    int status_ = 0;
    bool close_ = false;
    std::string why_;
};

}  // namespace wsbench
