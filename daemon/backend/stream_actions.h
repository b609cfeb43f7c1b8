// stream_actions: what the gateway does with one action a stream backend sent (SPEC §4): send,
// publish, send_user, broadcast, join, leave, close, through hub::delivery.
//
// A connection of the stream's own worker is acted on at once (a `send` is copied straight from
// the read buffer into the connection's output: no allocation); anything else goes through the
// delivery, which answers later on the stream's worker. Delivery keeps each worker's calls in
// order, so a backend's actions reach every connection in the order it sent them.
//
// Runs on the stream's worker (backend/backend_stream).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "backend/stream_frame.h"
#include "hub/answers.h"

namespace wsgated::hub {
class delivery;
}

namespace wsgated::backend {

struct action_result {
    action_error error = action_error::none;
    std::optional<std::uint64_t> count;  // publish, send_user, broadcast: recipients
};
using action_answer = std::function<void(action_result)>;

// Where an action is applied from, and how an answer that comes later reaches the stream.
struct action_place {
    hub::delivery& delivery;
    unsigned worker;
    hub::reply_executor executor;  // the worker's
    // Called only when the answer comes later; the stream then counts the action in flight.
    std::function<action_answer()> later;
};

// The answer when it is known now; std::nullopt when `place.later()` was taken and will be
// called (exactly once, on the worker).
std::optional<action_result> apply_action(const action& a, const action_place& place);

}  // namespace wsgated::backend
