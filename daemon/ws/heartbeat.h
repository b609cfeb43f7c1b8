// heartbeat: the ping/pong state machine of one connection (SPEC §3): a ping every
// `interval`; if neither a pong nor any data arrives within `timeout` of it, the connection is
// dead and reaped. Each answered ping gives a round-trip time.
//
// Pure logic over time points — the session owns the timer and does the I/O — so every rule is
// unit-tested without a clock. Owned by one session, used on its worker.
#pragma once

#include <chrono>
#include <optional>

namespace wsgated::ws {

class heartbeat {
public:
    using clock = std::chrono::steady_clock;
    enum class action { none, send_ping, reap };

    heartbeat(clock::duration interval, clock::duration timeout, clock::time_point now);

    bool enabled() const { return interval_.count() > 0; }
    // When the session's timer should fire next.
    clock::time_point deadline() const { return deadline_; }

    // The timer fired at `now`: what to do. Moves the deadline.
    action on_timer(clock::time_point now);
    // Any frame from the client (data, ping, pong) proves it alive.
    void on_activity(clock::time_point now) { last_activity_ = now; }
    // A pong: the round-trip time when it answers the outstanding ping.
    std::optional<clock::duration> on_pong(clock::time_point now);

    std::optional<clock::duration> last_rtt() const {
        return last_rtt_ < clock::duration::zero() ? std::nullopt : std::optional(last_rtt_);
    }

    // A reload's interval and timeout, at `now`: a ping in flight keeps its window under the new
    // timeout; otherwise the next ping is due one new interval from now. The RTT is kept.
    void retime(clock::duration interval, clock::duration timeout, clock::time_point now);

private:
    clock::duration interval_;
    clock::duration timeout_;
    clock::time_point deadline_;
    clock::time_point ping_sent_{};
    clock::time_point last_activity_{};
    bool awaiting_ = false;
    clock::duration last_rtt_{-1};  // negative: none yet (8 bytes, not an optional's 16)
};

}  // namespace wsgated::ws
