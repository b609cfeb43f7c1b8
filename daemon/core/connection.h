// connection: what the rest of the gateway may do to one client connection (implemented by
// ws::session), and `message`, an outgoing payload. The hub's delivery reaches connections
// through this interface only; backends receive it when a connection opens.
//
// Every call happens on the connection's own worker thread.
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

namespace wsgated::core {

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
    virtual std::string_view id() const = 0;  // valid as long as the connection
    virtual const std::string& user() const = 0;  // empty: anonymous
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

}  // namespace wsgated::core
