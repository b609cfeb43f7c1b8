// stream_frame: see stream_frame.h.
#include "backend/stream_frame.h"

#include <charconv>
#include <cstring>

#include "protocol/connection_id.h"
#include "protocol/names.h"
#include "protocol/utf8.h"

namespace wsgated::backend {
namespace json = boost::json;

std::string_view label(frame_error e) {
    switch (e) {
    case frame_error::none: return "none";
    case frame_error::not_json: return "not_json";
    case frame_error::not_object: return "not_object";
    case frame_error::header_too_long: return "header_too_long";
    case frame_error::bad_size: return "bad_size";
    case frame_error::size_too_large: return "size_too_large";
    }
    return "none";
}

frame_reader::frame_reader() : resource_(arena_, sizeof arena_) {}

namespace {

// `size`: absent = 0, else a non-negative integer (3.0, "3" and -1 are not sizes).
bool read_size(const json::object& o, std::uint64_t& size) {
    const json::value* v = o.if_contains("size");
    if (!v) return size = 0, true;
    if (v->is_uint64()) return size = v->get_uint64(), true;
    if (v->is_int64() && v->get_int64() >= 0) return size = static_cast<std::uint64_t>(v->get_int64()), true;
    return false;
}

}  // namespace

frame_reader::result frame_reader::parse(std::string_view in, std::uint64_t max_size) {
    result r;
    std::size_t nl = in.substr(0, max_header_bytes + 1).find('\n');
    if (nl == std::string_view::npos) {
        if (in.size() > max_header_bytes) r.st = status::error, r.error = frame_error::header_too_long;
        return r;
    }
    header_ = nullptr;  // drops the previous header before its arena is reused
    resource_.release();
    parser_.reset(json::storage_ptr(&resource_));
    boost::system::error_code ec;
    parser_.write(in.data(), nl, ec);
    if (ec) return r.st = status::error, r.error = frame_error::not_json, r;
    header_ = parser_.release();
    if (!header_.is_object()) return r.st = status::error, r.error = frame_error::not_object, r;
    std::uint64_t size = 0;
    if (!read_size(header_.get_object(), size)) return r.st = status::error, r.error = frame_error::bad_size, r;
    if (size > max_size) return r.st = status::error, r.error = frame_error::size_too_large, r;
    if (in.size() - nl - 1 < size) return r;  // the payload is not all here yet
    r.st = status::frame;
    r.header = &header_.get_object();
    r.payload = in.substr(nl + 1, size);
    r.consumed = nl + 1 + size;
    return r;
}

std::string_view name_of(action_kind k) {
    switch (k) {
    case action_kind::send: return "send";
    case action_kind::publish: return "publish";
    case action_kind::send_user: return "send_user";
    case action_kind::broadcast: return "broadcast";
    case action_kind::join: return "join";
    case action_kind::leave: return "leave";
    case action_kind::close: return "close";
    }
    return "send";
}

std::string_view label(action_error e) {
    switch (e) {
    case action_error::none: return "none";
    case action_error::unknown_action: return "unknown_action";
    case action_error::bad_conn: return "bad_conn";
    case action_error::bad_room: return "bad_room";
    case action_error::bad_user: return "bad_user";
    case action_error::bad_code: return "bad_code";
    case action_error::bad_reason: return "bad_reason";
    case action_error::bad_utf8: return "bad_utf8";
    case action_error::bad_field: return "bad_field";
    case action_error::not_found: return "not_found";
    case action_error::gone: return "gone";
    case action_error::unavailable: return "unavailable";
    }
    return "none";
}

namespace {

std::string_view view(const json::string& s) { return {s.data(), s.size()}; }

// A string key: absent → `absent`; present but not a string → false.
bool text_of(const json::object& o, std::string_view key, std::string_view& out) {
    const json::value* v = o.if_contains(key);
    if (!v) return true;
    if (!v->is_string()) return false;
    out = view(v->get_string());
    return true;
}

bool flag_of(const json::object& o, std::string_view key, bool& out) {
    const json::value* v = o.if_contains(key);
    if (!v) return true;
    if (!v->is_bool()) return false;
    out = v->get_bool();
    return true;
}

std::optional<action_kind> kind_of(std::string_view name) {
    for (auto k : {action_kind::send, action_kind::publish, action_kind::send_user, action_kind::broadcast,
                   action_kind::join, action_kind::leave, action_kind::close})
        if (name_of(k) == name) return k;
    return std::nullopt;
}

bool needs_conn(action_kind k) {
    return k == action_kind::send || k == action_kind::join || k == action_kind::leave || k == action_kind::close;
}
bool carries_payload(action_kind k) {
    return k == action_kind::send || k == action_kind::publish || k == action_kind::send_user ||
           k == action_kind::broadcast;
}

action_error decode_close(const json::object& o, action& out) {
    if (const json::value* v = o.if_contains("code")) {
        if (!v->is_int64() && !v->is_uint64()) return action_error::bad_code;
        auto code = v->is_int64() ? v->get_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), 1u << 20));
        if (code < 0 || !protocol::valid_app_close_code(static_cast<unsigned>(code))) return action_error::bad_code;
        out.code = static_cast<std::uint16_t>(code);
    }
    if (!text_of(o, "reason", out.reason)) return action_error::bad_field;
    return protocol::valid_close_reason(out.reason) ? action_error::none : action_error::bad_reason;
}

// The fields every kind may carry, checked for type; then what this kind needs.
action_error decode_fields(const json::object& o, action& out) {
    std::string_view wait;
    if (!text_of(o, "conn", out.conn) || !text_of(o, "room", out.room) || !text_of(o, "exclude", out.exclude) ||
        !text_of(o, "user", out.user) || !text_of(o, "wait", wait) || !flag_of(o, "binary", out.binary))
        return action_error::bad_field;
    if (!wait.empty() && wait != "written") return action_error::bad_field;
    out.wait_written = wait == "written";
    if (needs_conn(out.kind) && !protocol::valid_connection_id(out.conn)) return action_error::bad_conn;
    if (out.kind == action_kind::publish && !out.exclude.empty() && !protocol::valid_connection_id(out.exclude))
        return action_error::bad_conn;
    bool room = out.kind == action_kind::publish || out.kind == action_kind::join || out.kind == action_kind::leave;
    if (room && !protocol::valid_name(out.room)) return action_error::bad_room;
    if (out.kind == action_kind::send_user && !protocol::valid_name(out.user)) return action_error::bad_user;
    if (out.kind == action_kind::close) return decode_close(o, out);
    return action_error::none;
}

}  // namespace

action_error decode_action(const json::object& header, std::string_view payload, action& out) {
    out = action{};
    if (const json::value* id = header.if_contains("id")) {
        if (!id->is_string() && !id->is_number()) return action_error::bad_field;
        out.id = id;
    }
    const json::value* name = header.if_contains("action");
    if (!name || !name->is_string()) return action_error::unknown_action;
    auto kind = kind_of(view(name->get_string()));
    if (!kind) return action_error::unknown_action;
    out.kind = *kind;
    if (auto e = decode_fields(header, out); e != action_error::none) return e;
    if (carries_payload(out.kind)) {
        out.payload = payload;
        // A text frame must be UTF-8, or every conforming client fails the connection (1007).
        if (!out.binary && !protocol::valid_utf8(payload)) return action_error::bad_utf8;
    }
    return action_error::none;
}

// --- writers -------------------------------------------------------------------------------

namespace {

void append_number(std::string& out, std::uint64_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, end);
}

// Bytes from `s` that start a valid UTF-8 sequence: its length, or 0.
std::size_t utf8_run(std::string_view s) {
    auto lead = static_cast<unsigned char>(s[0]);
    std::size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (n == 0 || n > s.size() || !protocol::valid_utf8(s.substr(0, n))) return 0;
    return n;
}

void append_pairs(std::string& out, const std::vector<std::pair<std::string, std::string>>* pairs) {
    out += '{';
    if (pairs) {
        bool first = true;
        for (const auto& [k, v] : *pairs) {
            if (!first) out += ',';
            first = false;
            append_json_string(out, k);
            out += ':';
            append_json_string(out, v);
        }
    }
    out += '}';
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            std::size_t n = utf8_run(s.substr(i));
            if (n == 0) out += "\\ufffd", ++i;
            else out.append(s.data() + i, n), i += n;
            continue;
        }
        if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
        else if (c < 0x20 || c == 0x7F) out += "\\u00", out += hex[c >> 4], out += hex[c & 15];
        else out += static_cast<char>(c);
        ++i;
    }
    out += '"';
}

void append_hello(std::string& out, std::string_view node, unsigned worker) {
    out += "{\"event\":\"hello\",\"node\":";
    append_json_string(out, node);
    out += ",\"worker\":";
    append_number(out, worker);
    out += ",\"version\":";
    append_number(out, stream_protocol_version);
    out += ",\"size\":0}\n";
}

void append_connect(std::string& out, const connect_fields& f, bool replay) {
    out += "{\"event\":\"connect\",\"conn\":";
    append_json_string(out, f.conn);
    out += ",\"route\":";
    append_json_string(out, f.route);
    out += ",\"params\":";
    append_pairs(out, f.params);
    out += ",\"user\":";
    if (f.user.empty()) out += "null";
    else append_json_string(out, f.user);
    out += ",\"rooms\":[";
    if (f.rooms)
        for (std::size_t i = 0; i < f.rooms->size(); ++i) {
            if (i) out += ',';
            append_json_string(out, (*f.rooms)[i]);
        }
    out += "],\"remote\":";
    append_json_string(out, f.remote);
    out += ",\"headers\":";
    append_pairs(out, f.headers);
    out += ",\"claims\":";
    out += f.claims_json.empty() ? std::string_view("{}") : f.claims_json;
    out += replay ? ",\"replay\":true,\"size\":0}\n" : ",\"replay\":false,\"size\":0}\n";
}

void append_message_header(std::string& out, std::string_view conn, bool binary, std::size_t size) {
    // Ids are base64url: no escaping needed (the hot path appends them as they are).
    out += "{\"event\":\"message\",\"conn\":\"";
    out += conn;
    out += binary ? "\",\"binary\":true,\"size\":" : "\",\"binary\":false,\"size\":";
    append_number(out, size);
    out += "}\n";
}

void append_disconnect(std::string& out, std::string_view conn, std::uint16_t code, std::string_view reason) {
    out += "{\"event\":\"disconnect\",\"conn\":";
    append_json_string(out, conn);
    out += ",\"code\":";
    append_number(out, code);
    out += ",\"reason\":";
    append_json_string(out, reason);
    out += ",\"size\":0}\n";
}

void append_ack(std::string& out, std::string_view id_json, action_error error, std::optional<std::uint64_t> count) {
    out += "{\"event\":\"ack\",\"id\":";
    out += id_json;
    if (error == action_error::none) {
        out += ",\"ok\":true";
    } else {
        out += ",\"ok\":false,\"error\":\"";
        out += label(error);
        out += '"';
    }
    if (count) {
        out += ",\"count\":";
        append_number(out, *count);
    }
    out += "}\n";
}

}  // namespace wsgated::backend
