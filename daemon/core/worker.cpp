// worker: see worker.h.
#include "core/worker.h"

#include <vector>

#include <spdlog/spdlog.h>

#include "metrics/registry.h"

namespace wsgated::core {

void worker::start() {
    guard_.emplace(ioc_.get_executor());
    thread_ = std::thread([this] {
        metrics::set_thread_slot(index_ + 1);  // this worker's own slot of every counter
        // Handlers return errors as values; an exception here is a bug, and a worker that
        // silently died would strand its connections, so log it and stop the process.
        try {
            ioc_.run();
        } catch (const std::exception& e) {
            spdlog::critical("worker {}: unexpected exception: {}", index_, e.what());
            std::abort();
        }
    });
}

void worker::stop() {
    guard_.reset();
    ioc_.stop();
}

void worker::join() {
    if (thread_.joinable()) thread_.join();
}

void worker::attach(const std::shared_ptr<attached>& d) {
    if (d->prev_ || open_ == d.get()) return;  // already here
    d->next_ = open_;
    if (open_) open_->prev_ = d.get();
    open_ = d.get();
    live_.fetch_add(1, std::memory_order_relaxed);
}

void worker::detach(attached* d) {
    if (!d->prev_ && open_ != d) return;  // never attached, or detached already
    if (d->prev_) d->prev_->next_ = d->next_;
    else open_ = d->next_;
    if (d->next_) d->next_->prev_ = d->prev_;
    d->prev_ = d->next_ = nullptr;
    live_.fetch_sub(1, std::memory_order_relaxed);
}

// drain() and reconfigure() may detach (and so erase) entries: both iterate over a copy.
template <class Fn>
void worker::for_each_attached(Fn&& fn) {
    std::vector<std::weak_ptr<attached>> all;
    all.reserve(live());
    for (attached* d = open_; d; d = d->next_) all.push_back(d->keep());
    for (auto& w : all)
        if (auto d = w.lock()) fn(*d);
}

void worker::drain_all() {
    draining_ = true;
    for_each_attached([](attached& d) { d.drain(); });
}

void worker::reconfigure_all(snapshot_ptr next) {
    snapshot_ = std::move(next);
    for_each_attached([this](attached& d) { d.reconfigure(snapshot_); });
}

}  // namespace wsgated::core
