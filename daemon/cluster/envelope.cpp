// envelope: see envelope.h.
#include "cluster/envelope.h"

#include "protocol/connection_id.h"
#include "protocol/names.h"

namespace wsgated::cluster {
namespace {

constexpr char magic = 'w';

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

bool get_varint(std::string_view& in, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (in.empty()) return false;
        auto byte = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        if (shift == 63 && byte > 1) return false;  // past 64 bits
        v |= std::uint64_t(byte & 0x7F) << shift;
        // The shortest form only (no trailing zero group), so one envelope has one encoding.
        if (!(byte & 0x80)) return byte != 0 || shift == 0;
    }
    return false;
}

bool get_string(std::string_view& in, std::string_view& s) {
    std::uint64_t n = 0;
    if (!get_varint(in, n) || n > in.size()) return false;
    s = in.substr(0, n);
    in.remove_prefix(n);
    return true;
}

bool known_kind(char k) {
    switch (static_cast<kind>(k)) {
    case kind::publish: case kind::broadcast: case kind::user_send: case kind::user_join:
    case kind::user_close: case kind::request: case kind::reply: case kind::probe: case kind::hello:
        return true;
    }
    return false;
}

}  // namespace

std::string encode(const envelope& e) {
    std::string out;
    out.reserve(32 + e.origin.size() + e.a.size() + e.b.size() + e.c.size() + e.payload.size());
    out.push_back(magic);
    out.push_back(static_cast<char>(e.kind));
    out.push_back(static_cast<char>(e.op));
    out.push_back(static_cast<char>(e.flags));
    put_varint(out, e.seq);
    put_varint(out, e.code);
    for (std::string_view s : {e.origin, e.a, e.b, e.c}) {
        put_varint(out, s.size());
        out.append(s);
    }
    out.append(e.payload);
    return out;
}

std::optional<envelope> decode(std::string_view in) {
    if (in.size() < 4 || in[0] != magic || !known_kind(in[1])) return std::nullopt;
    envelope e;
    e.kind = static_cast<kind>(in[1]);
    e.op = static_cast<std::uint8_t>(in[2]);
    e.flags = static_cast<std::uint8_t>(in[3]);
    in.remove_prefix(4);
    if (!get_varint(in, e.seq) || !get_varint(in, e.code)) return std::nullopt;
    for (std::string_view* s : {&e.origin, &e.a, &e.b, &e.c})
        if (!get_string(in, *s)) return std::nullopt;
    e.payload = in;
    return e;
}

bool valid_origin(std::string_view tag) { return protocol::valid_node_tag(tag); }

namespace {

bool valid_close(const envelope& e) {
    return e.code <= 0xFFFF && protocol::valid_app_close_code(static_cast<unsigned>(e.code)) &&
           protocol::valid_close_reason(e.b);
}

}  // namespace

bool valid_fields(const envelope& e) {
    using protocol::valid_name;
    switch (e.kind) {
    case kind::publish: return valid_name(e.a) && (e.b.empty() || protocol::valid_connection_id(e.b));
    case kind::user_send: return valid_name(e.a);
    case kind::user_join: return valid_name(e.a) && valid_name(e.b);
    case kind::user_close: return valid_name(e.a) && valid_close(e);
    case kind::request:
        if (static_cast<op>(e.op) == op::join) return valid_name(e.b);
        if (static_cast<op>(e.op) == op::close) return valid_close(e);
        return true;
    default: return true;
    }
}

}  // namespace wsgated::cluster
