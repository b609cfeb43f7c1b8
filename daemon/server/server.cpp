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
    std::vector<core::worker*> ws;
    for (auto& w : workers_) ws.push_back(w.get());
    listeners_ = std::make_unique<listener_set>(
        control_, std::move(ws), [this](auto s, auto& w, const auto& c) { on_socket(std::move(s), w, c); },
        [this] { state_.metrics.handshake_failures.with({"fd_limit"}).inc(); });
    // After the workers: http backends build a connection pool on each worker's event loop.
    snapshot_.store(make_snapshot(std::move(cfg), nullptr));
}

// Every part of a snapshot is built here, the one layer above all of them (core/snapshot.h).
// A reload's backends keep the previous snapshot's instances of unchanged definitions.
core::snapshot_ptr server::make_snapshot(config::config_ptr cfg, const core::snapshot* previous) {
    auto s = std::make_shared<core::snapshot>();
    s->routes = std::make_shared<const route::router>(cfg);
    s->backends = std::make_shared<const backend::backend_set>(*cfg, state_, delivery_,
                                                               previous ? previous->backends.get() : nullptr);
    s->auth = std::make_shared<const auth::auth_set>(*cfg, state_);
    s->config_ptr = std::move(cfg);
    return s;
}

// Control thread: the socket is handed to its worker, whose handshake takes the snapshot in
// force on that worker (a reload reaches the worker in order with the sockets posted to it).
void server::on_socket(boost::asio::ip::tcp::socket s, core::worker& w, const config::listen_config& cfg) {
    ws::listener_options opts{cfg.tls ? cfg.tls->context : nullptr, cfg.proxy_protocol};
    boost::asio::post(w.ioc(), [this, sock = std::move(s), &w, opts = std::move(opts)]() mutable {
        ws::start_handshake(std::move(sock), w, w.snapshot(), opts, ws::services{state_, delivery_});
    });
}

server::~server() {
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->join();
    // A snapshot's backends post their teardown to every worker's io_context: let the workers'
    // copies go while all of those still exist (members die in reverse order, workers last).
    for (auto& w : workers_) w->set_snapshot(nullptr);
}

std::shared_ptr<admin::admin_listener> server::make_admin(const config::listen_config& at, admin::admin_scope scope) {
    admin::admin_state state{&state_, &delivery_, control_.get_executor(), [this] { return !draining_; },
                             [this] { return current()->config_ptr; },
                             [this](bool dry_run) { return reload(dry_run); }, scope};
    return std::make_shared<admin::admin_listener>(control_, at, std::move(state));
}

bool server::bind_listeners() {
    if (auto err = listeners_->bind(current()->config()); !err.empty()) {
        spdlog::error("{}", err);
        return false;
    }
    const auto& ac = current()->config().admin;
    admin_ = make_admin(ac.listen, admin::admin_scope::main);
    if (auto err = admin_->bind("admin.listen"); !err.empty()) {
        spdlog::error("{}", err);
        return false;
    }
    if (ac.control_listen) {
        control_api_ = make_admin(*ac.control_listen, admin::admin_scope::control);
        if (auto err = control_api_->bind("admin.control_listen"); !err.empty()) {
            spdlog::error("{}", err);
            return false;
        }
    }
    if (ac.token.empty())
        spdlog::warn("admin.token is not set: the control API (/v1) answers 403; set it, e.g. "
                     "admin: {token: \"${WSGATED_ADMIN_TOKEN}\"} with the variable in the environment");
    return true;
}

int server::run() {
    if (!bind_listeners()) return 1;
    if (cluster_) cluster_->start();
    for (auto& w : workers_) w->set_snapshot(current());  // before their threads run
    for (auto& w : workers_) w->start();
    listeners_->start();
    spdlog::info("admin listening on {} ({})", admin_->local_address(), admin_->tls() ? "https" : "http");
    admin_->start();
    if (control_api_) {
        spdlog::info("control API listening on {}", control_api_->local_address());
        control_api_->start();
    }
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
    if (sig == SIGHUP) reload(false);
    else begin_drain();
    if (!draining_) signals_.async_wait([this](error_code e, int s) { on_signal(e, s); });
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
    listeners_->stop();
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
    listeners_->clear();
    // Sessions a drain timeout left open die with their worker's io_context, in ~server, after
    // cluster_: they must not tell it they left.
    delivery_.clear_bus();
    // After the workers: no membership change can come any more; the node's share leaves Redis.
    if (cluster_) return cluster_->leave([this] { stopped(); });
    stopped();
}

void server::stopped() {
    if (admin_) admin_->stop();  // kept through the drain: /readyz says 503 meanwhile
    if (control_api_) control_api_->stop();
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
