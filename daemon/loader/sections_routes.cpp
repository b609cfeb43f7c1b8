// sections_routes: the `backends` and `routes` sections (see sections.h); a route's `auth` is
// in sections_auth.cpp.
#include <algorithm>

#include "loader/formats.h"
#include "loader/sections.h"
#include "route/path_pattern.h"

namespace wsgated::config {
namespace {

bool valid_backend_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

void build_http_backend(const document& doc, error_list& errors, const key_path& at,
                        backend_config& out) {
    out.type = backend_type::http;
    out.timeout = doc.time(at.key("timeout"));
    out.max_connections = static_cast<std::uint32_t>(doc.number(at.key("max_connections")));
    const node_value* url = doc.get(at.key("url"));
    if (!url) return;
    std::string why;
    if (!parse_http_url(url->text, out.endpoint, why)) {
        errors.add(url->mark, at.key("url").path, why);
        return;
    }
    out.url = url->text;
}

void build_stream_backend(const document& doc, error_list& errors, const key_path& at,
                          backend_config& out) {
    out.type = backend_type::stream;
    out.timeout = doc.time(at.key("timeout"));
    out.max_buffer = doc.number(at.key("max_buffer"));
    const node_value* path = doc.get(at.key("path"));
    const node_value* address = doc.get(at.key("address"));
    std::string why;
    if (path && address) {
        errors.add(address->mark, at.key("address").path, "give `path` or `address`, not both");
    } else if (path) {
        if (check_socket_path(path->text, why)) out.path = path->text;
        else errors.add(path->mark, at.key("path").path, why);
    } else if (address) {
        if (!parse_connect_address(address->text, out.host, out.port, why))
            errors.add(address->mark, at.key("address").path, why);
    } else {
        errors.add(out.mark, at.path, "a stream backend needs `path` (a Unix socket) or `address` (host:port)");
    }
}

// "/chat/{room}" and "/chat/{name}" match the same requests: compare with the names removed.
std::string path_shape(std::string_view path) {
    std::string shape;
    for (std::size_t i = 0; i < path.size(); ++i) {
        shape += path[i];
        if (path[i] != '{') continue;
        std::size_t close = path.find('}', i);
        if (close == std::string_view::npos) break;
        shape += '}';
        i = close;
    }
    return shape;
}

struct seen_path {
    std::string shape;
    std::size_t route;
};

// Checks the route's path; fills `params` with its parameter names. False when it is unusable.
bool build_path(const document& doc, error_list& errors, const key_path& at,
                std::vector<seen_path>& seen, std::size_t index, route_config& out,
                std::vector<std::string>& params) {
    const node_value* v = doc.get(at);
    if (!v) return false;
    route::path_pattern pattern;
    std::string why;
    if (!route::path_pattern::parse(v->text, pattern, why)) {
        errors.add(v->mark, at.path, why);
        return false;
    }
    std::string shape = path_shape(v->text);
    auto dup = std::find_if(seen.begin(), seen.end(),
                            [&](const seen_path& s) { return s.shape == shape; });
    // A duplicate is an error, but the route's other keys are still checked: every error of a
    // file is reported at once.
    if (dup != seen.end())
        errors.add(v->mark, at.path,
                   "duplicate route path: routes[" + std::to_string(dup->route) + "] has it too");
    else
        seen.push_back({shape, index});
    out.path = v->text;
    params = pattern.param_names();
    return true;
}

void build_backend_ref(const document& doc, error_list& errors, const key_path& at,
                       const std::map<std::string, backend_config>& backends,
                       route_config& out) {
    const node_value* v = doc.get(at);
    if (!v) return;
    if (!backends.count(v->text)) {
        errors.add(v->mark, at.path,
                   "backend '" + v->text + "' is not defined in `backends` (nor built in: echo)");
        return;
    }
    out.backend = v->text;
}

void build_rooms(const document& doc, error_list& errors, const key_path& at,
                 const std::vector<std::string>* params, route_config& out) {
    for (std::size_t i = 0; i < doc.count(at); ++i) {
        const node_value* v = doc.get(at.item(i));
        if (!v) continue;
        std::string why;
        // Without a valid path the parameters are unknown; the path's error says enough.
        if (params && !check_room_template(v->text, *params, why))
            errors.add(v->mark, at.item(i).path, why);
        else
            out.rooms.push_back(v->text);
    }
}

// Items of a list of strings; with `token`, each must be an RFC 9110 token.
std::vector<std::string> strings(const document& doc, error_list& errors, const key_path& at,
                                 bool token) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < doc.count(at); ++i) {
        const node_value* v = doc.get(at.item(i));
        if (!v) continue;
        if (token && !is_token(v->text))
            errors.add(v->mark, at.item(i).path, "'" + v->text + "' is not a valid token");
        else if (!token && v->text.empty())
            errors.add(v->mark, at.item(i).path, "must not be empty");
        else
            out.push_back(v->text);
    }
    return out;
}

void build_compression(const document& doc, const key_path& at, compression_config& out) {
    out.enabled = doc.flag(at.key("enabled"));
    out.threshold = doc.number(at.key("threshold"));
    // The schema bounds these to small ranges (9..15, 0..9, 1..9).
    out.server_max_window_bits = static_cast<int>(doc.number(at.key("server_max_window_bits")));
    out.client_max_window_bits = static_cast<int>(doc.number(at.key("client_max_window_bits")));
    out.server_no_context_takeover = doc.flag(at.key("server_no_context_takeover"));
    out.client_no_context_takeover = doc.flag(at.key("client_no_context_takeover"));
    out.level = static_cast<int>(doc.number(at.key("level")));
    out.mem_level = static_cast<int>(doc.number(at.key("mem_level")));
}

unsigned events(const document& doc, const key_path& at) {
    unsigned bits = 0;
    for (std::size_t i = 0; i < doc.count(at); ++i) {
        std::string e = doc.text(at.item(i));
        bits |= e == "connect" ? ev_connect : e == "message" ? ev_message
              : e == "disconnect" ? ev_disconnect : 0u;
    }
    return bits;
}

void build_route(const document& doc, error_list& errors, const key_path& at,
                 const std::map<std::string, backend_config>& backends,
                 std::vector<seen_path>& seen, std::size_t index, route_config& out) {
    out.mark = doc.mark(at);
    std::vector<std::string> params;
    bool path_ok = build_path(doc, errors, at.key("path"), seen, index, out, params);
    build_backend_ref(doc, errors, at.key("backend"), backends, out);
    if (doc.get(at.key("auth"))) build_auth(doc, errors, at.key("auth"), out.auth);
    build_rooms(doc, errors, at.key("rooms"), path_ok ? &params : nullptr, out);
    if (doc.get(at.key("origins"))) out.origins = strings(doc, errors, at.key("origins"), false);
    out.subprotocols = strings(doc, errors, at.key("subprotocols"), true);
    build_compression(doc, at.key("compression"), out.compression);
    out.events = events(doc, at.key("events"));
    out.rate_limit = doc.text(at.key("rate_limit")) == "drop" ? rate_limit_action::drop
                                                               : rate_limit_action::close;
}

}  // namespace

void build_backends(const document& doc, error_list& errors,
                    std::map<std::string, backend_config>& out) {
    out["echo"].name = "echo";  // built in, type echo
    key_path at{"backends", "backends"};
    for (const std::string& name : doc.keys(at)) {
        key_path b = at.entry(name);
        if (name == "echo") {
            errors.add(doc.key_mark(b), b.path,
                       "`echo` is the built-in backend; choose another name");
            continue;
        }
        if (!valid_backend_name(name)) {
            errors.add(doc.key_mark(b), b.path,
                       "a backend name may hold only letters, digits, '_' and '-'");
            continue;
        }
        // Even a broken backend is entered, so that routes naming it are not also reported.
        backend_config& c = out[name];
        c.name = name;
        c.mark = doc.key_mark(b);
        std::string type = doc.text(b.key("type"));
        if (type == "http") build_http_backend(doc, errors, b, c);
        else if (type == "stream") build_stream_backend(doc, errors, b, c);
    }
}

void build_routes(const document& doc, error_list& errors,
                  const std::map<std::string, backend_config>& backends,
                  std::vector<route_config>& out) {
    key_path at{"routes", "routes"};
    if (doc.get(at) && doc.count(at) == 0)
        errors.add(doc.mark(at), at.path, "at least one route is needed");
    std::vector<seen_path> seen;
    for (std::size_t i = 0; i < doc.count(at); ++i) {
        if (!doc.get(at.item(i))) continue;
        build_route(doc, errors, at.item(i), backends, seen, i, out.emplace_back());
    }
}

}  // namespace wsgated::config
