// connection_facts: see connection_facts.h.
#include "ws/connection_facts.h"

#include "route/room_template.h"

namespace wsgated::ws {

core::connection_info connection_facts::info(std::optional<std::chrono::steady_clock::duration> rtt) const {
    core::connection_info i;
    i.id = id;
    i.route = route->path;
    i.params = params;
    i.user = identity.user;
    i.claims_json = identity.claims_json;
    i.headers = forwarded;
    i.remote_address = remote;
    i.connected_at = connected_at;
    i.rtt = rtt;
    return i;
}

std::vector<std::string> connection_facts::initial_rooms() const {
    std::vector<std::string> rooms;
    for (const auto& tmpl : route->rooms)
        if (auto room = route::expand_room(tmpl, params, identity.user, identity.claims)) rooms.push_back(std::move(*room));
    rooms.insert(rooms.end(), identity.rooms.begin(), identity.rooms.end());
    return rooms;
}

std::vector<std::pair<std::string, std::string>> forwarded_headers(const core::upgrade_request& req,
                                                                   const config::route_config& route) {
    std::vector<std::pair<std::string, std::string>> out;
    if (route.auth.type != config::auth_type::http) return out;
    for (const auto& name : route.auth.http.forward_headers) {
        auto it = req.find(name);
        if (it != req.end()) out.emplace_back(name, std::string(it->value()));
    }
    return out;
}

}  // namespace wsgated::ws
