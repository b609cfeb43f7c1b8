// backend: the one interface every backend implements (echo now; http and stream later), and
// `connection`, what a backend may do to a client connection (implemented by ws::session).
//
// Like Pushpin's WebSocket interface, the session only joins the client to a backend; it knows
// nothing of HTTP or stream framing. All calls happen on the connection's own worker thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wsgated::backend {

// An outgoing message: an immutable buffer that may be shared by many connections (fan-out
// frames the payload once).
struct message {
    std::shared_ptr<const std::string> data;
    bool binary = false;
};

class connection {
public:
    virtual ~connection() = default;
    virtual const std::string& id() const = 0;
    // Queues a message; a connection whose queue exceeds server.limits.send_queue is closed
    // 1008 "slow consumer" instead of growing.
    virtual void send(message m) = 0;
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
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
