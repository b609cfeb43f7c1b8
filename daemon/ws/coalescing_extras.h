// coalescing_extras: the part of ws/coalescing_stream's state that a connection needs only now
// and then: shared payloads (a publish) among its copied bytes, bytes received and not read
// yet, the callers of a drain, a failure. One block, allocated when first needed and given back when the
// connection is quiet (coalescing_stream::release_buffers), so that an idle connection pays a
// pointer for it, not five vectors (idle memory is a product figure: docs/performance.md).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace wsgated::ws {

struct coalescing_extras {
    // A shared buffer's place in the copied bytes: it goes before the copied byte at `at`.
    struct shared_piece {
        std::size_t at;
        std::shared_ptr<const std::string> bytes;
    };

    std::vector<shared_piece> pending_shared;  // among the copied bytes pending / in flight
    std::vector<shared_piece> sending_shared;
    std::size_t pending_shared_bytes = 0;
    std::size_t sending_shared_bytes = 0;
    std::vector<boost::asio::const_buffer> gather;  // plain TCP: the write in flight, in pieces
    std::vector<char> inbox;  // received, not yet read by the session (keep_unread)
    std::vector<std::function<void(boost::system::error_code)>> drained;  // async_drain's callers
    boost::system::error_code error;  // what failed the socket: nothing more is written
    std::unique_ptr<char[]> own_buffer;  // receives without the worker's scratch (tests, tools)
    static constexpr std::size_t own_buffer_size = 4096;

    std::size_t held() const { return sizeof(*this) + inbox.capacity() + (own_buffer ? own_buffer_size : 0); }

    // Grown by a burst of shared payloads (a fan-out backlog): more than a quiet one should keep.
    bool grown() const {
        constexpr std::size_t keep_pieces = 32;
        return gather.capacity() > keep_pieces || pending_shared.capacity() > keep_pieces ||
               sending_shared.capacity() > keep_pieces;
    }

    // Nothing in use: the block can go.
    bool unused() const {
        return pending_shared.empty() && sending_shared.empty() && inbox.empty() && drained.empty() && !error &&
               !own_buffer;
    }

    // The write in flight as one sequence: `sending`'s bytes and the shared buffers in order.
    void gather_with(const std::vector<char>& sending) {
        gather.clear();
        std::size_t from = 0;
        for (const auto& piece : sending_shared) {
            if (piece.at > from) gather.emplace_back(sending.data() + from, piece.at - from);
            gather.emplace_back(piece.bytes->data(), piece.bytes->size());
            from = piece.at;
        }
        if (from < sending.size()) gather.emplace_back(sending.data() + from, sending.size() - from);
    }

    // After a write: lets go of the shared buffers now, not at the next write.
    void written() {
        sending_shared.clear();
        sending_shared_bytes = 0;
    }
};

}  // namespace wsgated::ws
