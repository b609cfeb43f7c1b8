// listener_set: see listener_set.h.
#include "server/listener_set.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

namespace wsgated::server {

listener_set::listener_set(boost::asio::io_context& control, std::vector<core::worker*> workers,
                           net::listener::accept_fn on_socket, net::listener::refused_fn on_refused)
    : control_(control), workers_(std::move(workers)), on_socket_(std::move(on_socket)), on_refused_(std::move(on_refused)) {}

std::shared_ptr<net::listener> listener_set::make(const config::listen_config& c) {
    return std::make_shared<net::listener>(control_, c, workers_, on_socket_, on_refused_);
}

listener_set::entry* listener_set::find(const std::string& key) {
    for (auto& e : entries_)
        if (e.key == key) return &e;
    return nullptr;
}

std::string listener_set::bind(const config::gateway_config& cfg) {
    auto keys = config::listener_keys(cfg.server.listen);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        auto l = make(cfg.server.listen[i]);
        if (auto err = l->bind(); !err.empty()) return err;
        entries_.push_back({keys[i], std::move(l)});
    }
    return {};
}

void listener_set::start() {
    for (auto& e : entries_) {
        spdlog::info("listening on {} ({})", e.l->local_address(), e.l->tls() ? "wss" : "ws");
        e.l->start();
    }
}

std::string listener_set::prepare(const config::gateway_config& next) {
    pending_.clear();
    auto keys = config::listener_keys(next.server.listen);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (find(keys[i])) continue;
        auto l = make(next.server.listen[i]);
        if (auto err = l->bind(); !err.empty()) {
            pending_.clear();
            return err;
        }
        pending_.push_back({keys[i], std::move(l)});
    }
    return {};
}

void listener_set::commit(const config::gateway_config& next) {
    auto keys = config::listener_keys(next.server.listen);
    std::vector<entry> kept;
    // A kept address takes its settings in place, a switch between ws and wss included: the TLS
    // context is taken from the listener's settings at each accept, so its socket stays bound.
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (entry* now = find(keys[i])) {
            now->l->update(next.server.listen[i]);
            kept.push_back(*now);
        }
    }
    for (auto& e : entries_) {
        if (std::find(keys.begin(), keys.end(), e.key) != keys.end()) continue;
        spdlog::info("reload: listener {} removed; its open connections stay", e.l->local_address());
        e.l->stop();
    }
    for (auto& e : pending_) {
        spdlog::info("listening on {} ({})", e.l->local_address(), e.l->tls() ? "wss" : "ws");
        e.l->start();
        kept.push_back(std::move(e));
    }
    pending_.clear();
    entries_ = std::move(kept);
}

void listener_set::stop() {
    for (auto& e : entries_) e.l->stop();
}

void listener_set::clear() { entries_.clear(); }

}  // namespace wsgated::server
