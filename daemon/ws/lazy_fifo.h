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
    const T& front() const { return items_[head_]; }
    void push_back(T v) { items_.push_back(std::move(v)); }

    void pop_front() {
        items_[head_++] = T{};  // let go of what it holds now, not when the queue empties
        if (empty()) return clear();
        // A queue that never quite empties (a steady stream) drops its popped prefix once it
        // is half the storage: amortised O(1), storage within twice what is queued.
        if (head_ >= 32 && head_ * 2 >= items_.size()) {
            items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }

    // Items stored, popped ones not yet dropped included (what the queue costs).
    std::size_t stored() const { return items_.size(); }

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
