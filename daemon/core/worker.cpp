// worker: see worker.h.
#include "core/worker.h"

#include <vector>

#include <spdlog/spdlog.h>

namespace wsgated::core {

void worker::start() {
    guard_.emplace(ioc_.get_executor());
    thread_ = std::thread([this] {
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

void worker::attach(const std::shared_ptr<drainable>& d) {
    open_.emplace(d.get(), d);
    live_.fetch_add(1, std::memory_order_relaxed);
}

void worker::detach(drainable* d) {
    if (open_.erase(d)) live_.fetch_sub(1, std::memory_order_relaxed);
}

void worker::drain_all() {
    draining_ = true;
    // drain() may detach (and so erase) entries: iterate over a copy.
    std::vector<std::weak_ptr<drainable>> all;
    all.reserve(open_.size());
    for (auto& [_, w] : open_) all.push_back(w);
    for (auto& w : all)
        if (auto d = w.lock()) d->drain();
}

}  // namespace wsgated::core
