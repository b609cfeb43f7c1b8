// tls_socket: see tls_socket.h.
#include "ws/tls_socket.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <spdlog/spdlog.h>

namespace wsgated::ws {
namespace {

// The scratch's split: a receive of ciphertext decrypts to at most as many bytes, plus one
// record (16 KiB) whose first part came in an earlier receive. 96 KiB in, 160 KiB out: what
// still does not fit stays in the engine, and is read next without the socket.
constexpr std::size_t cipher_share(std::size_t scratch) { return scratch * 3 / 8; }

}  // namespace

std::span<char> tls_socket::receive(std::span<char> scratch, bool in_flight, error_code& ec) {
    auto cipher = scratch.first(cipher_share(scratch.size()));
    auto plain = scratch.subspan(cipher.size());
    std::size_t n = 0;
    if (!engine_.ready()) {
        n = socket_.read_some(boost::asio::buffer(cipher.data(), cipher.size()), ec);
        if (ec) return {};  // would_block, eof (TCP's end without close_notify), a reset
    }
    std::size_t got = engine_.read_stream(cipher.first(n), plain, ec);
    if (ec && ec != boost::asio::error::would_block && ec != boost::asio::error::eof) {
        spdlog::debug("TLS connection failed: {}", engine_.reason());
        // Our alert, best effort: the connection ends either way.
        auto& alert = engine_.output();
        error_code ignored;
        if (!alert.empty() && !in_flight) socket_.write_some(boost::asio::buffer(alert), ignored);
        alert.clear();
    }
    return plain.first(got);
}

}  // namespace wsgated::ws
