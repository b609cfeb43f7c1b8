// backend_stream: one worker's stream to one `stream` backend (SPEC §4), multiplexing every
// connection of that worker on the backend's routes.
//
//   clients ─ stream_channel::on_message ─→ out_ (frames, coalesced) ─→ socket ─→ backend
//   clients ←─ delivery / the connection ←─ apply_action ←─ frame_reader ←─ socket ←┘
//
// Up: each event is appended to out_ and written with whatever else queued meanwhile (one write
// for many frames). Down (not yet connected, or lost): messages are held, with their bytes
// counted against the same `max_buffer`; on every connect the stream writes `hello`, a
// `connect` with "replay":true for each connection open on the worker, then what was held.
// Past max_buffer the worker's clients on the route are paused (not read) until the bytes fall
// below half. A connection whose events could not be delivered for `timeout` (the stream is
// down) is closed 1013; after `timeout` down, new upgrades are refused (accepting()).
//
// Owned by stream_backend through core::per_worker; channels hold it too. Everything runs on
// its worker's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "backend/stream_actions.h"
#include "backend/stream_frame.h"
#include "backend/stream_shared.h"
#include "net/reconnecting_link.h"

namespace wsgated::backend {

class stream_channel;

class backend_stream : public std::enable_shared_from_this<backend_stream> {
public:
    using clock = std::chrono::steady_clock;

    backend_stream(std::shared_ptr<const stream_shared> s, unsigned worker, boost::asio::io_context& ioc);
    backend_stream(const backend_stream&) = delete;
    backend_stream& operator=(const backend_stream&) = delete;

    void start();   // begins connecting
    void retire();  // the backend is gone from the config: stop once what is queued is written

    // From the channels, on the worker. message() returns false when the client must pause.
    void opened(stream_channel& ch);
    bool message(stream_channel& ch, std::string_view payload, bool binary);
    void closed(stream_channel& ch, std::uint16_t code, std::string_view reason);
    void forget(stream_channel& ch);  // a channel destroyed without closing (shutdown)

    // False once the stream has been down for `timeout`: the upgrade answers 503.
    bool accepting() const { return up_ || clock::now() - down_since_ < s_->timeout; }

private:
    // An event that waits for the backend to be reachable again.
    struct held_event {
        std::shared_ptr<stream_channel> ch;
        bool disconnect = false;
        std::string payload;  // a message; a disconnect's reason
        bool binary = false;
        std::uint16_t code = 0;
    };
    // A buffer grown past four times this by a burst is freed once empty.
    static constexpr std::size_t max_kept_buffer = 256 * 1024;

    // link and I/O (backend_stream.cpp)
    void stop();
    void on_connected();
    void lose(boost::system::error_code ec);
    void kick();
    void on_write(std::uint64_t session, boost::system::error_code ec);
    void release_drain_hold();
    bool make_room();
    void do_read();
    void on_read(std::uint64_t session, boost::system::error_code ec, std::size_t n);
    void process();
    void protocol_error(frame_error e);
    void apply(const boost::json::object& header, std::string_view payload);
    action_answer later(const boost::json::value* id);
    void append_answer(std::string_view id_json, const action_result& r);
    bool read_paused() const;
    void resume_reading_backend();

    // events (backend_stream_events.cpp)
    void append_connect(stream_channel& ch, bool replay);
    void replay_all();
    void hold(held_event e);
    void pause(stream_channel& ch);
    void maybe_resume();
    void arm_timeout();
    void on_timeout(boost::system::error_code ec);
    void abandon(stream_channel& ch);
    void unregister(stream_channel& ch);

    std::size_t pending() const { return out_.size() + wbuf_.size() + held_bytes_; }

    std::shared_ptr<const stream_shared> s_;
    unsigned worker_;
    boost::asio::io_context& ioc_;
    std::shared_ptr<net::reconnecting_link> link_;
    boost::asio::steady_timer timeout_timer_;
    boost::asio::steady_timer retire_timer_;

    bool up_ = false;  // connected, hello written
    bool retiring_ = false, stopped_ = false;
    bool in_lose_ = false;       // inside link_->lost(): its on_down is not a failed attempt
    bool timeout_armed_ = false;
    std::uint64_t session_ = 1;  // bumped when a connection is lost: older completions are stale
    std::uint64_t link_id_ = 0;  // reconnecting_link's connection id while up
    clock::time_point down_since_;

    std::string out_;   // frames not yet handed to the socket
    std::string wbuf_;  // frames being written
    std::size_t out_messages_ = 0, wbuf_messages_ = 0;  // message frames in each (dropped if lost)
    bool writing_ = false;
    bool drain_hold_ = false;  // counted in process_state::backend_in_flight while writing

    std::vector<char> rbuf_;
    std::size_t rpos_ = 0, rend_ = 0;
    bool reading_ = false;
    std::size_t actions_in_flight_ = 0;
    frame_reader reader_;
    const boost::json::value* current_id_ = nullptr;  // of the action being applied
    action_place place_;

    std::vector<stream_channel*> open_;  // every open channel of this worker (their slot = index)
    std::deque<held_event> held_;
    std::size_t held_bytes_ = 0;
    std::vector<std::shared_ptr<stream_channel>> paused_;
};

}  // namespace wsgated::backend
