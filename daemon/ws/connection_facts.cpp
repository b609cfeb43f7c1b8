// connection_facts: see connection_facts.h.
#include "ws/connection_facts.h"

#include "route/room_template.h"

namespace wsgated::ws {

namespace {

bool anonymous(const auth::identity& who) {
    return who.user.empty() && who.rooms.empty() && who.claims.empty() && who.claims_json == auth::identity{}.claims_json;
}

}  // namespace

connection_facts::connection_facts(std::string_view i, const config::route_config* r, pairs p, auth::identity who,
                                   std::string from)
    : id(i), route(r), remote(std::move(from)) {
    if (!p.empty()) own().params = std::move(p);
    if (!anonymous(who)) own().identity = std::move(who);
}

const connection_facts::about& connection_facts::none() {
    static const about empty;
    return empty;
}

connection_facts::about& connection_facts::own() {
    if (!about_) about_ = std::make_unique<about>();
    return *about_;
}

void connection_facts::set_forwarded(pairs headers) {
    if (!headers.empty()) own().forwarded = std::move(headers);
}

core::connection_info connection_facts::info(std::optional<std::chrono::steady_clock::duration> rtt) const {
    core::connection_info i;
    i.id = id.view();
    i.route = route->path;
    i.params = params();
    i.user = identity().user;
    i.claims_json = identity().claims_json;
    i.headers = forwarded();
    i.remote_address = remote;
    i.connected_at = connected_at;
    i.rtt = rtt;
    return i;
}

std::vector<std::string> connection_facts::initial_rooms() const {
    std::vector<std::string> rooms;
    for (const auto& tmpl : route->rooms)
        if (auto room = route::expand_room(tmpl, params(), identity().user, identity().claims)) rooms.push_back(std::move(*room));
    rooms.insert(rooms.end(), identity().rooms.begin(), identity().rooms.end());
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
