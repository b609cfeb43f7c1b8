// resp: the Redis protocol (RESP2) both ways. Commands are written by us (an array of bulk
// strings, appended to the link's output buffer, so a pipeline of commands is one write);
// replies are parsed by hiredis's reader (libhiredis), fed from our own Asio reads: hiredis
// does no I/O here, so nothing blocks an event loop.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

namespace wsgated::cluster {

// Appends one command, e.g. append_command(out, {"PUBLISH", channel, bytes}).
void append_command(std::string& out, std::span<const std::string_view> args);
inline void append_command(std::string& out, std::initializer_list<std::string_view> args) {
    append_command(out, std::span<const std::string_view>(args.begin(), args.size()));
}

struct reply_deleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

// A reply's text (bulk string, status or error), or empty.
inline std::string_view text_of(const redisReply* r) {
    return r && r->str ? std::string_view(r->str, r->len) : std::string_view{};
}
inline bool is_error(const redisReply* r) { return !r || r->type == REDIS_REPLY_ERROR; }

class resp_reader {
public:
    resp_reader();
    // Adds bytes read from the socket.
    bool feed(const char* data, std::size_t n);
    // The next whole reply, nullptr when more bytes are needed. A protocol error (Redis never
    // sends one; a wrong peer might) sets failed(): the link then drops the connection.
    reply_ptr next();
    bool failed() const { return failed_; }
    std::string error() const;

private:
    struct reader_deleter {
        void operator()(redisReader* r) const { redisReaderFree(r); }
    };
    std::unique_ptr<redisReader, reader_deleter> reader_;
    bool failed_ = false;
};

}  // namespace wsgated::cluster
