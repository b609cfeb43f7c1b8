// lazy_fifo: a first-in first-out queue that allocates nothing until its first push and frees
// its storage whenever it empties. Per connection: std::deque allocates about 600 bytes when
// it is constructed, on every idle connection, and idle memory is a product figure
// (docs/performance.md). Queues here are short and bounded (send_queue), so a vector with a
// moving head is enough.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace wsgated::ws {

template <class T>
class lazy_fifo {
public:
    bool empty() const { return head_ == items_.size(); }
    std::size_t size() const { return items_.size() - head_; }
    T& front() { return items_[head_]; }
    void push_back(T v) { items_.push_back(std::move(v)); }

    void pop_front() {
        items_[head_++] = T{};  // let go of what it holds now, not when the queue empties
        if (empty()) clear();
    }

    void clear() {
        std::vector<T>().swap(items_);
        head_ = 0;
    }

    // Oldest first.
    auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
    auto end() { return items_.end(); }

private:
    std::vector<T> items_;
    std::size_t head_ = 0;
};

}  // namespace wsgated::ws
