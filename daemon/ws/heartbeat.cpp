// heartbeat: see heartbeat.h.
#include "ws/heartbeat.h"

namespace wsgated::ws {

heartbeat::heartbeat(clock::duration interval, clock::duration timeout, clock::time_point now)
    : interval_(interval), timeout_(timeout), deadline_(now + interval), last_activity_(now) {}

heartbeat::action heartbeat::on_timer(clock::time_point now) {
    // A wait that had already completed when a reload moved the deadline: not due yet.
    if (now < deadline_) return action::none;
    if (awaiting_) {
        // The ping's window is over: alive if anything came since it was sent.
        if (last_activity_ < ping_sent_) return action::reap;
        awaiting_ = false;
    }
    if (now < ping_sent_ + interval_ && ping_sent_ != clock::time_point{}) {
        deadline_ = ping_sent_ + interval_;  // answered early: keep the ping cadence
        return action::none;
    }
    ping_sent_ = now;
    awaiting_ = true;
    deadline_ = now + timeout_;
    return action::send_ping;
}

void heartbeat::retime(clock::duration interval, clock::duration timeout, clock::time_point now) {
    interval_ = interval;
    timeout_ = timeout;
    if (!enabled()) awaiting_ = false;
    if (awaiting_) {
        deadline_ = ping_sent_ + timeout_;  // the ping in flight is judged by the new timeout
        return;
    }
    ping_sent_ = {};  // the old cadence is not kept: the new one starts now
    deadline_ = now + interval_;
}

std::optional<heartbeat::clock::duration> heartbeat::on_pong(clock::time_point now) {
    last_activity_ = now;
    if (!awaiting_) return std::nullopt;  // unsolicited pong (RFC 6455 §5.5.3): fine, no RTT
    awaiting_ = false;
    last_rtt_ = now - ping_sent_;
    return last_rtt_;
}

}  // namespace wsgated::ws
