// backend: the one interface every backend implements (echo, http, stream), and
// `connection`, what a backend may do to a client connection (implemented by ws::session).
//
// Like Pushpin's WebSocket interface, the session only joins the client to a backend; it knows
// nothing of HTTP or stream framing. When a connection opens, its backend hands it a `channel`:
// the session passes every message and the close to it. All calls happen on the connection's
// own worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/connection.h"

namespace wsgated::backend {

using core::connection;
using core::connection_info;
using core::message;


// One connection's link to its backend, owned by the session (a backend may keep it alive
// longer, to finish delivering what the client sent before it closed).
class channel {
public:
    virtual ~channel() = default;
    // `payload` is valid only during the call. Returns true when the session may read the next
    // message now, false when the backend will call resume_reading() later: this is how a
    // connection's messages stay in order and how a slow backend pushes back on the client.
    virtual bool on_message(std::string_view payload, bool binary) = 0;
    // The connection ended (after it left the hub); called once, never followed by another call.
    virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
    // The connection goes on with another definition of its backend (a reload changed it): no
    // message follows; what was sent is still answered, then the backend hears a disconnect
    // (1012 "backend reloaded"), as the new definition hears a connect. Instead of on_close.
    // `drained` runs once every message sent here was answered, so that the session hands the
    // next one to the new definition only then (one connection's messages stay in order); it
    // runs on the connection's worker, maybe at once. This channel no longer resumes or closes
    // the connection after it (a failure is counted, the connection is the new backend's).
    virtual void on_moved(std::function<void()> drained) {
        on_close(moved_code, moved_reason);
        drained();
    }

    static constexpr std::uint16_t moved_code = 1012;
    static constexpr std::string_view moved_reason = "backend reloaded";
};

// Where a connection is: what a backend needs to set up its channel.
struct channel_place {
    unsigned worker = 0;        // the worker the connection lives on
    unsigned events = 7;        // config::event_bit set of the route
};

class backend {
public:
    virtual ~backend() = default;
    // On the connection's worker, once the connection is in the hub (its rooms joined).
    virtual std::shared_ptr<channel> open(const std::shared_ptr<connection>& c,
                                          const channel_place& where) = 0;
    // On `worker`, during a handshake: false answers the upgrade 503 (a stream backend that has
    // been unreachable from this worker for its `timeout`).
    virtual bool accepting(unsigned /*worker*/) const { return true; }
};

}  // namespace wsgated::backend
