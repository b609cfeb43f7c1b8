// view_codec: see view_codec.h.
#include "cluster/view_codec.h"

#include <boost/json.hpp>

namespace wsgated::cluster {
namespace {

namespace json = boost::json;
using namespace std::chrono;

json::array pairs(const std::vector<std::pair<std::string, std::string>>& v) {
    json::array a;
    for (const auto& [k, val] : v) a.push_back(json::array{json::string(k), json::string(val)});
    return a;
}

bool read_pairs(const json::value* v, std::vector<std::pair<std::string, std::string>>& out) {
    if (!v || !v->is_array()) return false;
    for (const auto& p : v->get_array()) {
        const auto* a = p.if_array();
        if (!a || a->size() != 2 || !(*a)[0].is_string() || !(*a)[1].is_string()) return false;
        out.emplace_back(std::string((*a)[0].get_string()), std::string((*a)[1].get_string()));
    }
    return true;
}

bool read_string(const json::object& o, std::string_view key, std::string& out) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return false;
    out = std::string(v->get_string());
    return true;
}

}  // namespace

std::string encode_view(const hub::connection_view& v) {
    const auto& i = v.info;
    json::array rooms;
    for (const auto& r : v.rooms) rooms.emplace_back(r);
    json::object o{
        {"id", i.id}, {"route", i.route}, {"params", pairs(i.params)}, {"user", i.user},
        {"claims", i.claims_json}, {"headers", pairs(i.headers)}, {"remote", i.remote_address},
        {"at_ms", duration_cast<milliseconds>(i.connected_at.time_since_epoch()).count()},
        {"rooms", std::move(rooms)}};
    if (i.rtt) o["rtt_ns"] = duration_cast<nanoseconds>(*i.rtt).count();
    return json::serialize(o);
}

std::optional<hub::connection_view> decode_view(std::string_view text) {
    boost::system::error_code ec;
    json::value root = json::parse(text, ec);
    const auto* o = ec ? nullptr : root.if_object();
    if (!o) return std::nullopt;
    hub::connection_view v;
    auto& i = v.info;
    const auto* at = o->if_contains("at_ms");
    const auto* rooms = o->if_contains("rooms");
    if (!read_string(*o, "id", i.id) || !read_string(*o, "route", i.route) || !read_string(*o, "user", i.user) ||
        !read_string(*o, "claims", i.claims_json) || !read_string(*o, "remote", i.remote_address) ||
        !read_pairs(o->if_contains("params"), i.params) || !read_pairs(o->if_contains("headers"), i.headers) ||
        !at || !at->is_int64() || !rooms || !rooms->is_array())
        return std::nullopt;
    // A time the clock can hold: milliseconds from 1970 to 2100 (system_clock counts
    // nanoseconds in 64 bits, and 13333333333333 ms overflowed it: the cluster_envelope fuzz
    // target's find). A view from another node outside that is malformed.
    if (at->get_int64() < 0 || at->get_int64() > 4102444800000) return std::nullopt;
    i.connected_at = system_clock::time_point(milliseconds(at->get_int64()));
    if (const auto* rtt = o->if_contains("rtt_ns")) {
        if (!rtt->is_int64()) return std::nullopt;
        i.rtt = duration_cast<steady_clock::duration>(nanoseconds(rtt->get_int64()));
    }
    for (const auto& r : rooms->get_array()) {
        if (!r.is_string()) return std::nullopt;
        v.rooms.emplace_back(r.get_string());
    }
    return v;
}

}  // namespace wsgated::cluster
