// server: the process's lifecycle: workers, listeners, signals, drain. Owns the one mutable
// pointer to the current configuration snapshot (swapped whole on reload).
//
// Runs on the main ("control") thread: its io_context carries the acceptors, the signal set
// and the drain/watchdog timers; connections never run here.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "admin/admin_listener.h"
#include "cluster/cluster_bus.h"
#include "config/gateway_config.h"
#include "core/process_state.h"
#include "core/snapshot.h"
#include "core/worker.h"
#include "hub/delivery.h"
#include "server/listener_set.h"
#include "server/memory_trim.h"

namespace wsgated::server {

class server {
public:
    explicit server(config::config_ptr cfg);
    ~server();

    // Binds every listener, serves until SIGTERM/SIGINT has drained, then returns the exit
    // status: 0 after a clean shutdown, 1 when a listener cannot bind.
    int run();

private:
    core::snapshot_ptr current() const { return snapshot_.load(); }
    core::snapshot_ptr make_snapshot(config::config_ptr cfg, const core::snapshot* previous);
    void on_socket(boost::asio::ip::tcp::socket s, core::worker& w, const config::listen_config& cfg);
    bool bind_listeners();
    std::shared_ptr<admin::admin_listener> make_admin(const config::listen_config& at, admin::admin_scope scope);
    void on_signal(boost::system::error_code ec, int sig);

    // server/reload.cpp: SIGHUP and POST /v1/reload (SPEC §1).
    admin::reload_report reload(bool dry_run);
    void report_changes(admin::reload_report& report, const config::gateway_config& next);
    std::string prepare_admin(const config::gateway_config& next);
    void commit_admin(const config::gateway_config& next);
    void discard_prepared_admin();
    void swap_in(core::snapshot_ptr next);

    void begin_drain();
    std::size_t live_connections() const;
    void check_drained();
    void finish();
    void stopped();
    void start_watchdog();

    // Workers are declared first so that they are destroyed last: handlers still queued on
    // control_ (an aborted accept) own sockets registered with a worker's io_context.
    core::process_state state_;  // first: outlives every connection (they release their limits into it)
    hub::delivery delivery_;
    std::vector<std::unique_ptr<core::worker>> workers_;
    boost::asio::io_context control_{1};
    std::unique_ptr<cluster::cluster_bus> cluster_;  // with cluster.redis; runs on control_
    boost::asio::signal_set signals_;
    boost::asio::steady_timer drain_poll_;
    boost::asio::steady_timer watchdog_;
    memory_trim trim_;
    std::chrono::steady_clock::time_point drain_deadline_;
    std::atomic<core::snapshot_ptr> snapshot_;
    std::unique_ptr<listener_set> listeners_;  // the public ones
    std::shared_ptr<admin::admin_listener> admin_;    // admin.listen
    std::shared_ptr<admin::admin_listener> control_api_;  // admin.control_listen, when set
    // A reload's admin listeners, bound before anything else changes (prepare_admin).
    std::shared_ptr<admin::admin_listener> next_admin_, next_control_api_;
    std::string config_path_;
    bool draining_ = false;
};

}  // namespace wsgated::server
