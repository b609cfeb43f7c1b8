// backend: the one interface every backend implements (echo, http; stream later), and
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

namespace wsgated::backend {

// An outgoing message: an immutable buffer that may be shared by many connections (fan-out
// frames the payload once).
struct message {
    using written_fn = std::function<void(bool written)>;
    std::shared_ptr<const std::string> data;
    bool binary = false;
    // Optional: called on the connection's worker with true once the message is written to the
    // socket, false if the connection closed first (the control API's ?wait=written).
    written_fn on_written;
};

// What the control API shows of a connection (GET /v1/connections/{id}).
struct connection_info {
    std::string id;
    std::string route;  // the route's path pattern
    std::vector<std::pair<std::string, std::string>> params;
    std::string user;   // empty: not authenticated
    std::string claims_json = "{}";  // the auth claims, a JSON object
    // The request headers named by the route's auth.forward_headers that the client sent
    // (lower-case names), for the connect event.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string remote_address;
    std::chrono::system_clock::time_point connected_at;
    std::optional<std::chrono::steady_clock::duration> rtt;  // the heartbeat's last round trip
};

class connection {
public:
    virtual ~connection() = default;
    virtual const std::string& id() const = 0;
    // Queues a message; a connection whose queue exceeds server.limits.send_queue is closed
    // 1008 "slow consumer" instead of growing.
    virtual void send(message m) = 0;
    // The same for a payload that is only valid during the call (a reused read buffer): the
    // connection copies it straight into its output, with no shared buffer to allocate.
    virtual void send_copy(std::string_view payload, bool binary) = 0;
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
    virtual connection_info info() const = 0;
    // Lets a backend that returned `false` from on_message deliver the next message.
    virtual void resume_reading() = 0;
};

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
};

}  // namespace wsgated::backend
