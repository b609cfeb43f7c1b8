// session_phase: the life of one WebSocket session as one value instead of a set of booleans
// (which let impossible states exist: closing and finished at once, open but never accepted).
//
//   handshake ──▶ open ──▶ closing ──▶ finished
//        └──────────┴─────────┴──────────▲   (a failed 101, a drain during the 101, a reset)
//
// Every step goes forward; nothing leaves finished. Held by ws::session on its worker.
#pragma once

#include <boost/assert.hpp>

namespace wsgated::ws {

enum class session_phase {
    handshake,  // the 101 is being written
    open,       // the channel is open (and so must see on_close once)
    closing,    // our close frame is out or queued; the client's is awaited
    finished,   // ended: nothing more is read, written or delivered
};

constexpr bool legal_step(session_phase from, session_phase to) { return to > from; }

class phase_tracker {
public:
    session_phase now() const { return now_; }
    bool is(session_phase p) const { return now_ == p; }
    void to(session_phase next) {
        BOOST_ASSERT(legal_step(now_, next));
        now_ = next;
    }

private:
    session_phase now_ = session_phase::handshake;
};

}  // namespace wsgated::ws
