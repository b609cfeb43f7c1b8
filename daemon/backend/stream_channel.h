// stream_channel: one client connection's place on its worker's backend_stream. The session
// hands it every message and the close; the stream keeps the bookkeeping it needs here (is the
// backend told of this connection, is the client paused, since when does it wait).
//
// Owned by the session; events the stream holds while the backend is down own it too (so a
// connection that closed during an outage can still be replayed with what it sent). On the
// connection's worker only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/backend_stream.h"

namespace wsgated::backend {

class stream_channel final : public channel, public std::enable_shared_from_this<stream_channel> {
public:
    stream_channel(std::shared_ptr<backend_stream> stream, const std::shared_ptr<connection>& c, unsigned events)
        : conn(c), id(c->id()), events(events), stream_(std::move(stream)) {}
    ~stream_channel() override { stream_->forget(*this); }

    bool on_message(std::string_view payload, bool binary) override {
        return stream_->message(*this, payload, binary);
    }
    void on_close(std::uint16_t code, std::string_view reason) override { stream_->closed(*this, code, reason); }

    // The stream's bookkeeping (backend_stream.cpp).
    std::weak_ptr<connection> conn;
    std::string id;
    unsigned events;                   // config::event_bit set of the route
    std::uint64_t announced = 0;       // the stream session whose backend got its connect
    std::size_t slot = 0;              // index in the stream's open list
    std::size_t held = 0;              // its events held while the backend is down
    bool open = false, paused = false, abandoned = false;
    std::chrono::steady_clock::time_point waiting_since;  // while the stream is down
    std::string connect_frame;         // closed while down with events held: its replayed connect

private:
    std::shared_ptr<backend_stream> stream_;
};

}  // namespace wsgated::backend
