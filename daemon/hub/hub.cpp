// hub: see hub.h.
#include "hub/hub.h"

#include <map>

#include <boost/asio/post.hpp>

namespace wsgated::hub {

hub::hub(unsigned workers)
    : rooms(std::max(1u, workers), metrics.rooms), contexts_(std::max(1u, workers), nullptr) {
    for (unsigned w = 0; w < std::max(1u, workers); ++w)
        locals_.push_back(std::make_unique<local_hub>(w, rooms));
}

void hub::set_worker_context(unsigned worker, boost::asio::io_context& ioc) { contexts_[worker] = &ioc; }

std::uint64_t hub::publish(const std::string& room, backend::message m, const std::string& exclude) {
    metrics.room_publishes.inc();
    std::uint64_t members = rooms.members(room);
    for (unsigned w : rooms.workers_of(room)) {
        boost::asio::post(*contexts_[w], [this, w, room, m, exclude] {
            locals_[w]->publish(room, m, exclude);
        });
    }
    return members;
}

std::uint64_t hub::broadcast(backend::message m) {
    for (unsigned w = 0; w < locals_.size(); ++w)
        boost::asio::post(*contexts_[w], [this, w, m] { locals_[w]->broadcast(m); });
    return connections.size();
}

std::uint64_t hub::send_to_user(const std::string& user, backend::message m) {
    std::map<unsigned, std::vector<std::string>> by_worker;
    auto targets = connections.of_user(user);
    for (auto& [w, id] : targets) by_worker[w].push_back(std::move(id));
    for (auto& [w, ids] : by_worker) {
        boost::asio::post(*contexts_[w], [this, w, ids = std::move(ids), m] {
            for (const auto& id : ids)
                if (auto* c = locals_[w]->find(id)) c->send(backend::message{m.data, m.binary, nullptr});
        });
    }
    return targets.size();
}

}  // namespace wsgated::hub
