// stream_frame: the stream backend's wire format (SPEC §4), both ways, as pure functions.
//
//   {"action":"send","conn":"…","binary":false,"size":5}\nhello
//   └──────────── header: one JSON object, ≤ 64 KiB ─────┘  └ exactly `size` bytes
//
// frame_reader cuts frames from what the backend sent and parses their headers; decode_action
// turns a header into an action the gateway can apply, or says why it cannot. The writers append
// the gateway's events to an output buffer. Nothing here does I/O, throws or grows without a
// bound, so the fuzz target (tests/fuzz/stream_frame_fuzz.cpp) drives it as it is.
//
// Used by backend/backend_stream on one worker's thread; a reader is not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

namespace wsgated::backend {

inline constexpr std::size_t max_header_bytes = 64 * 1024;  // SPEC §4, the newline not counted
inline constexpr int stream_protocol_version = 1;

// A frame that breaks the framing: the frame boundary is lost, so the stream is reconnected.
enum class frame_error { none, not_json, not_object, header_too_long, bad_size, size_too_large };
std::string_view label(frame_error e);  // the `reason` of backend_protocol_errors_total

class frame_reader {
public:
    enum class status { need_more, frame, error };
    struct result {
        status st = status::need_more;
        frame_error error = frame_error::none;
        std::size_t consumed = 0;                    // a frame's header, newline and payload
        const boost::json::object* header = nullptr;  // valid until the next parse()
        std::string_view payload;                    // a view into the input
    };

    frame_reader();
    frame_reader(const frame_reader&) = delete;
    frame_reader& operator=(const frame_reader&) = delete;

    // The first frame of `in`, if complete. A header that cannot be valid is an error as soon
    // as that is known (64 KiB without a newline), so a caller buffers at most one frame:
    // max_header_bytes + 1 + max_size bytes.
    result parse(std::string_view in, std::uint64_t max_size);

private:
    // Headers are parsed into this arena, reset for each frame: no allocation per frame.
    unsigned char arena_[4096];
    boost::json::monotonic_resource resource_;
    boost::json::parser parser_;
    boost::json::value header_;
};

enum class action_kind { send, publish, send_user, broadcast, join, leave, close };
std::string_view name_of(action_kind k);

// A well-formed frame that cannot apply: skipped, counted under this word, acked ok:false.
enum class action_error {
    none, unknown_action, bad_conn, bad_room, bad_user, bad_code, bad_reason, bad_utf8, bad_field,
    not_found, gone, unavailable,  // found out while applying it (hub::outcome)
};
std::string_view label(action_error e);  // also the ack's "error" word

// What one header asks for; views into the header and payload, valid as long as they are.
struct action {
    action_kind kind = action_kind::send;
    std::string_view conn, room, exclude, user, reason, payload;
    bool binary = false;
    bool wait_written = false;
    std::uint16_t code = 1000;
    const boost::json::value* id = nullptr;  // a string or a number; null = no ack wanted
};

// `id` is filled before anything else is checked, so a refused action can still be acked.
action_error decode_action(const boost::json::object& header, std::string_view payload, action& out);

// --- gateway → backend: each appends one whole frame to `out` ------------------------------
struct connect_fields {
    std::string_view conn, route, user, remote;
    const std::vector<std::pair<std::string, std::string>>* params = nullptr;
    const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
    const std::vector<std::string>* rooms = nullptr;
    std::string_view claims_json = "{}";  // a JSON object already
};

void append_hello(std::string& out, std::string_view node, unsigned worker);
void append_connect(std::string& out, const connect_fields& f, bool replay);
// The header only; the caller appends the `size` payload bytes after it.
void append_message_header(std::string& out, std::string_view conn, bool binary, std::size_t size);
void append_disconnect(std::string& out, std::string_view conn, std::uint16_t code, std::string_view reason);
// `id_json`: the action's id as it came, serialized (a string or a number).
void append_ack(std::string& out, std::string_view id_json, action_error error,
                std::optional<std::uint64_t> count = std::nullopt);

// `s` as a JSON string; bytes that are not valid UTF-8 become U+FFFD (a header must be UTF-8).
void append_json_string(std::string& out, std::string_view s);

}  // namespace wsgated::backend
