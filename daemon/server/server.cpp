// server: see server.h.
#include "server/server.h"

#include <algorithm>
#include <csignal>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "auth/auth_set.h"
#include "backend/backend_set.h"
#include "loader/loader.h"
#include "route/router.h"
#include "server/sd_notify.h"
#include "ws/handshake.h"

namespace wsgated::server {
namespace {
using error_code = boost::system::error_code;
}

server::server(config::config_ptr cfg)
    : state_(std::max(1u, cfg->server.workers)),
      delivery_(state_),
      signals_(control_, SIGTERM, SIGINT, SIGHUP),
      drain_poll_(control_),
      watchdog_(control_),
      trim_(control_, [this] { return live_connections(); }),
      config_path_(cfg->source_file) {
    for (unsigned i = 0; i < std::max(1u, cfg->server.workers); ++i) {
        workers_.push_back(std::make_unique<core::worker>(i));
        state_.set_worker_context(i, workers_.back()->ioc());
    }
    if (!cfg->cluster.redis.empty()) {
        cluster_ = std::make_unique<cluster::cluster_bus>(control_, delivery_, state_.metrics,
                                                          cluster::settings_from(cfg->cluster));
        delivery_.set_bus(*cluster_);  // before any connection: the bus hears every membership
    } else {
        state_.metrics.cluster_nodes.set(1);
    }
    // After the workers: http backends build a connection pool on each worker's event loop.
    snapshot_.store(make_snapshot(std::move(cfg)));
}

// Every part of a snapshot is built here, the one layer above all of them (core/snapshot.h).
core::snapshot_ptr server::make_snapshot(config::config_ptr cfg) {
    auto s = std::make_shared<core::snapshot>();
    s->routes = std::make_shared<const route::router>(cfg);
    s->backends = std::make_shared<const backend::backend_set>(*cfg, state_, delivery_);
    s->auth = std::make_shared<const auth::auth_set>(*cfg, state_);
    s->config_ptr = std::move(cfg);
    return s;
}

// Control thread: the socket is handed to its worker with the snapshot in force now.
void server::on_socket(boost::asio::ip::tcp::socket s, core::worker& w, const config::listen_config& cfg) {
    ws::listener_options opts{cfg.tls ? cfg.tls->context : nullptr, cfg.proxy_protocol};
    boost::asio::post(w.ioc(), [this, sock = std::move(s), &w, snap = current(), opts = std::move(opts)]() mutable {
        ws::start_handshake(std::move(sock), w, std::move(snap), opts, ws::services{state_, delivery_});
    });
}

server::~server() {
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->join();
}

bool server::bind_listeners() {
    std::vector<core::worker*> ws;
    for (auto& w : workers_) ws.push_back(w.get());
    for (const auto& lc : current()->config().server.listen) {
        auto l = std::make_shared<net::listener>(
            control_, lc, ws, [this](auto s, auto& w, const auto& c) { on_socket(std::move(s), w, c); },
            [this] { state_.metrics.handshake_failures.with({"fd_limit"}).inc(); });
        if (auto err = l->bind(); !err.empty()) {
            spdlog::error("{}", err);
            return false;
        }
        listeners_.push_back(std::move(l));
    }
    const auto& ac = current()->config().admin;
    admin::admin_state state{&state_, &delivery_, control_.get_executor(), ac.token, [this] { return !draining_; },
                             [this] { return current()->config_ptr; }, [this] { return reload(); }};
    admin_ = std::make_shared<admin::admin_listener>(control_, ac.listen, std::move(state));
    if (auto err = admin_->bind(); !err.empty()) {
        spdlog::error("{}", err);
        return false;
    }
    if (ac.token.empty())
        spdlog::warn("admin.token is not set: the control API (/v1) answers 403; set it, e.g. "
                     "admin: {{token: \"${{WSGATED_ADMIN_TOKEN}}\"}} with the variable in the environment");
    return true;
}

int server::run() {
    if (!bind_listeners()) return 1;
    if (cluster_) cluster_->start();
    for (auto& w : workers_) w->start();
    for (auto& l : listeners_) {
        spdlog::info("listening on {} ({})", l->local_address(), l->tls() ? "wss" : "ws");
        l->start();
    }
    spdlog::info("admin listening on {} ({})", admin_->local_address(), admin_->tls() ? "https" : "http");
    admin_->start();
    signals_.async_wait([this](error_code ec, int sig) { on_signal(ec, sig); });
    spdlog::info("ready");
    sd_notify("READY=1");
    start_watchdog();
    trim_.start();
    control_.run();
    return 0;
}

void server::on_signal(error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) reload();
    else begin_drain();
    if (!draining_) signals_.async_wait([this](error_code e, int s) { on_signal(e, s); });
}

// What a reload changes today: new handshakes use the new routes and backends. Listener
// addresses, TLS certificates and open connections are not touched yet (see
// docs/operations.md); a bad file leaves the old snapshot in force.
admin::reload_report server::reload() {
    sd_notify("RELOADING=1");
    admin::reload_report report;
    auto result = config::load_file(config_path_);
    if (!result.errors.empty()) {
        for (const auto& e : result.errors) {
            report.errors.push_back(e.to_string());
            spdlog::error("reload rejected: {}", report.errors.back());
        }
        state_.metrics.config_reloads.with({"error"}).inc();
    } else {
        state_.metrics.config_reloads.with({"ok"}).inc();
        report.ok = true;
        report.restart_needed = restart_needed(current()->config(), *result.config);
        apply_listener_changes(*result.config);
        snapshot_.store(make_snapshot(std::move(result.config)));
        spdlog::info("configuration reloaded from {}", config_path_);
    }
    sd_notify("READY=1");
    return report;
}

// What a reload does not apply yet (docs/operations.md): said, not silently ignored.
std::vector<std::string> server::restart_needed(const config::gateway_config& now,
                                                const config::gateway_config& next) {
    std::vector<std::string> keys;
    auto warn = [&](std::string_view key) {
        spdlog::warn("reload: {} changed; it takes effect after a restart", key);
        keys.emplace_back(key);
    };
    if (now.server.workers != next.server.workers) warn("server.workers");
    if (now.server.log.level != next.server.log.level) warn("server.log.level");
    if (now.server.log.format != next.server.log.format) warn("server.log.format");
    if (now.admin.listen.address != next.admin.listen.address) warn("admin.listen");
    if (now.admin.token != next.admin.token) warn("admin.token");
    if (now.cluster.redis != next.cluster.redis) warn("cluster.redis");
    return keys;
}

// Listeners whose address is in the new file take its settings (TLS certificates are re-read by
// the loader); addresses added or removed still need a restart, and the log says so.
void server::apply_listener_changes(const config::gateway_config& next) {
    for (auto& l : listeners_) {
        auto it = std::find_if(next.server.listen.begin(), next.server.listen.end(),
                               [&](const config::listen_config& c) { return c.address == l->address(); });
        if (it == next.server.listen.end())
            spdlog::warn("reload: listener {} is gone from the file; it stays until a restart", l->address());
        else if (it->tls.has_value() != l->tls())
            spdlog::warn("reload: listener {} changed between ws and wss; needs a restart", l->address());
        else
            l->update(*it);
    }
    for (const auto& c : next.server.listen) {
        bool known = std::any_of(listeners_.begin(), listeners_.end(),
                                 [&](const auto& l) { return l->address() == c.address; });
        if (!known) spdlog::warn("reload: new listener {} needs a restart", c.address);
    }
}

void server::begin_drain() {
    if (draining_) return;
    draining_ = true;
    sd_notify("STOPPING=1");
    auto timeout = current()->config().server.drain_timeout;
    spdlog::info("draining: closing every connection (1001), waiting up to {} ms", timeout.count());
    signals_.cancel();
    watchdog_.cancel();
    trim_.stop();
    for (auto& l : listeners_) l->stop();
    for (auto& w : workers_) boost::asio::post(w->ioc(), [p = w.get()] { p->drain_all(); });
    drain_deadline_ = std::chrono::steady_clock::now() + timeout;
    check_drained();
}

std::size_t server::live_connections() const {
    std::size_t live = 0;
    for (const auto& w : workers_) live += w->live();
    return live;
}

void server::check_drained() {
    std::size_t live = live_connections();
    live += state_.backend_in_flight.load(std::memory_order_relaxed);  // disconnect events
    if (live == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
        if (live) spdlog::warn("drain timeout: {} connections still open, closing them", live);
        return finish();
    }
    drain_poll_.expires_after(std::chrono::milliseconds(20));
    drain_poll_.async_wait([this](error_code ec) {
        if (!ec) check_drained();
    });
}

void server::finish() {
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->join();
    listeners_.clear();
    if (cluster_) cluster_->stop();  // after the workers: no membership change can come any more
    if (admin_) admin_->stop();  // kept through the drain: /readyz says 503 meanwhile
    spdlog::info("stopped");
    control_.stop();
}

// WATCHDOG=1 only once every worker has run a posted no-op: a wedged event loop (a handler
// that never returns) then stops the pings, and systemd restarts the service.
void server::start_watchdog() {
    auto every = sd_watchdog_interval();
    if (!every || draining_) return;
    auto pending = std::make_shared<std::size_t>(workers_.size());
    for (auto& w : workers_) {
        boost::asio::post(w->ioc(), [this, pending] {
            boost::asio::post(control_, [pending] {
                if (--*pending == 0) sd_notify("WATCHDOG=1");
            });
        });
    }
    watchdog_.expires_after(*every);
    watchdog_.async_wait([this](error_code ec) {
        if (!ec) start_watchdog();
    });
}

}  // namespace wsgated::server
