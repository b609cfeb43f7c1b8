// backend: the one interface every backend implements (echo now; http and stream later), and
// `connection`, what a backend may do to a client connection (implemented by ws::session).
//
// Like Pushpin's WebSocket interface, the session only joins the client to a backend; it knows
// nothing of HTTP or stream framing. All calls happen on the connection's own worker thread.
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
    std::shared_ptr<const std::string> data;
    bool binary = false;
    // Optional: called on the connection's worker with true once the message is written to the
    // socket, false if the connection closed first (the control API's ?wait=written).
    std::function<void(bool written)> on_written;
};

// What the control API shows of a connection (GET /v1/connections/{id}).
struct connection_info {
    std::string id;
    std::string route;  // the route's path pattern
    std::vector<std::pair<std::string, std::string>> params;
    std::string user;   // empty: not authenticated
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
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
    virtual connection_info info() const = 0;
    // Lets a backend that returned `false` from on_message deliver the next message.
    virtual void resume_reading() = 0;
};

class backend {
public:
    virtual ~backend() = default;
    virtual void on_connect(const std::shared_ptr<connection>& c) = 0;
    // `payload` is valid only during the call. Returns true when the session may read the next
    // message now, false when the backend will call resume_reading() later: this is how a
    // connection's messages stay in order and how a slow backend pushes back on the client.
    virtual bool on_message(const std::shared_ptr<connection>& c, std::string_view payload,
                            bool binary) = 0;
    virtual void on_disconnect(const std::shared_ptr<connection>& c, std::uint16_t code,
                               std::string_view reason) = 0;
};

}  // namespace wsgated::backend
