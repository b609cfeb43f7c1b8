// per_worker: one instance of T for each worker, each used only on its own worker's thread and
// destroyed there (an object that owns sockets or timers registered with a worker's event loop
// must die on that loop). The http backend's and the auth hook's connection pools use it; so
// will the stream backend's links.
//
// Built on the calling thread (a snapshot is built on the control thread, before any worker can
// reach it): `make(worker, io_context&)` must start nothing, only construct. The destructor
// posts each instance's last reference to its worker, so it may run on any thread, even while
// the workers run; instances still referenced elsewhere (a channel in flight) live on.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/post.hpp>

#include "core/process_state.h"

namespace wsgated::core {

template <class T>
class per_worker {
public:
    template <class Make>
    per_worker(const process_state& state, Make make) : state_(state) {
        for (unsigned w = 0; w < state.workers(); ++w) items_.push_back(make(w, state.context(w)));
    }
    per_worker(const per_worker&) = delete;
    per_worker& operator=(const per_worker&) = delete;
    ~per_worker() {
        for (unsigned w = 0; w < items_.size(); ++w)
            boost::asio::post(state_.context(w), [p = std::move(items_[w])] {});
    }

    // On worker `w`'s thread only.
    const std::shared_ptr<T>& on(unsigned w) const { return items_[w]; }
    unsigned size() const { return static_cast<unsigned>(items_.size()); }

private:
    const process_state& state_;
    std::vector<std::shared_ptr<T>> items_;
};

}  // namespace wsgated::core
