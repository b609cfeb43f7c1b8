// reload: SIGHUP and POST /v1/reload (SPEC §1). The file is loaded and checked whole; a bad one
// changes nothing. A good one is compared with the running one (config/config_diff), then, in
// this order: every address that must be bound is bound (a failure stops the reload here, with
// nothing changed), the new snapshot is swapped in for new handshakes, listeners are added,
// removed and updated, the log takes its level and format, and every worker hands the snapshot
// to its open sessions, which take the new limits, heartbeat and backend definitions, or close
// 1012 when their route is gone. No open connection is touched otherwise.
#include "server/server.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "loader/loader.h"
#include "server/logging.h"
#include "server/sd_notify.h"

namespace wsgated::server {

admin::reload_report server::reload(bool dry_run) {
    admin::reload_report report;
    report.dry_run = dry_run;
    if (draining_) {  // it would bind listeners and open backend streams the drain just closed
        report.draining = true;
        report.errors.push_back("the gateway is draining; a reload would reopen what the drain closed");
        spdlog::warn("reload refused: draining");
        return report;
    }
    if (!dry_run) sd_notify("RELOADING=1");
    auto result = config::load_file(config_path_);
    if (result.errors.empty()) report_changes(report, *result.config);
    for (const auto& e : result.errors) report.errors.push_back(e.to_string());
    if (!dry_run && report.errors.empty()) {
        if (auto err = prepare_admin(*result.config); !err.empty()) report.errors.push_back(err);
        else if (auto err2 = listeners_->prepare(*result.config); !err2.empty()) report.errors.push_back(err2);
    }
    if (dry_run) {
        report.ok = report.errors.empty();
        return report;
    }
    if (!report.errors.empty()) {
        discard_prepared_admin();
        for (const auto& e : report.errors) spdlog::error("reload rejected: {}", e);
        state_.metrics.config_reloads.with({"error"}).inc();
    } else {
        for (const auto& ch : report.changes)
            spdlog::info("reload: {} {}", ch.key, config::kind_name(ch.what));
        for (const auto& key : report.restart_needed)
            spdlog::warn("reload: {} changed; it takes effect after a restart", key);
        report.ok = true;
        const auto& next = *result.config;
        listeners_->commit(next);
        commit_admin(next);
        reconfigure_logging(next.server.log);
        swap_in(make_snapshot(std::move(result.config), current().get()));
        state_.metrics.config_reloads.with({"ok"}).inc();
        spdlog::info("configuration reloaded from {}", config_path_);
    }
    sd_notify("READY=1");
    return report;
}

// What the file changes, and which of those changes wait for a restart (said, never silent).
void server::report_changes(admin::reload_report& report, const config::gateway_config& next) {
    report.changes = config::diff(current()->config(), next);
    for (const auto& ch : report.changes)
        if (config::needs_restart(ch.key)) report.restart_needed.push_back(ch.key);
}

// Binds admin.listen and admin.control_listen where the file moves them, before anything
// changes; the old listeners keep serving until commit_admin().
std::string server::prepare_admin(const config::gateway_config& next) {
    const auto& now = current()->config().admin;
    const auto& ac = next.admin;
    if (ac.listen.address != now.listen.address) {
        next_admin_ = make_admin(ac.listen, admin::admin_scope::main);
        if (auto err = next_admin_->bind("admin.listen"); !err.empty()) {
            next_admin_.reset();
            return err;
        }
    }
    bool control_moves = ac.control_listen && (!now.control_listen || now.control_listen->address != ac.control_listen->address);
    if (control_moves) {
        // A Unix socket path that stays the same cannot be bound twice: the diff says it did not move.
        next_control_api_ = make_admin(*ac.control_listen, admin::admin_scope::control);
        if (auto err = next_control_api_->bind("admin.control_listen"); !err.empty()) {
            next_control_api_.reset();  // its bind failed: nothing of it to remove
            discard_prepared_admin();
            return err;
        }
    }
    return {};
}

// A Unix socket bound by prepare_admin() is removed with its listener.
void server::discard_prepared_admin() {
    for (auto* l : {&next_admin_, &next_control_api_}) {
        if (*l) (*l)->stop();
        l->reset();
    }
}

void server::commit_admin(const config::gateway_config& next) {
    if (next_admin_) {
        admin_->stop();
        admin_ = std::move(next_admin_);
        spdlog::info("admin listening on {} ({})", admin_->local_address(), admin_->tls() ? "https" : "http");
        admin_->start();
    }
    if (next_control_api_ || (!next.admin.control_listen && control_api_)) {
        if (control_api_) control_api_->stop();
        control_api_ = std::move(next_control_api_);
        if (control_api_) {
            spdlog::info("control API listening on {}", control_api_->local_address());
            control_api_->start();
        }
    }
}

// New handshakes take it at once (each worker's, in order with the sockets posted to it); open
// sessions take it on their worker.
void server::swap_in(core::snapshot_ptr next) {
    snapshot_.store(next);
    for (auto& w : workers_)
        boost::asio::post(w->ioc(), [p = w.get(), next] { p->reconfigure_all(next); });
}

}  // namespace wsgated::server
