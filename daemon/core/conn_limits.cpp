// conn_limits: see conn_limits.h.
#include "core/conn_limits.h"

namespace wsgated::core {

conn_slot& conn_slot::operator=(conn_slot&& o) noexcept {
    if (this != &o) {
        release();
        owner_ = o.owner_;
        address_ = o.address_;
        o.owner_ = nullptr;
    }
    return *this;
}

void conn_slot::release() {
    if (owner_) owner_->release(*address_);
    owner_ = nullptr;
}

conn_limits::verdict conn_limits::acquire(const std::string& address, std::uint64_t max_total,
                                          std::uint64_t max_per_address, conn_slot& out) {
    std::lock_guard lock(mutex_);
    if (total_.load(std::memory_order_relaxed) >= max_total) return verdict::over_total;
    auto entry = per_address_.try_emplace(address, 0).first;
    if (entry->second >= max_per_address) {
        if (entry->second == 0) per_address_.erase(entry);
        return verdict::over_per_address;
    }
    ++entry->second;
    total_.fetch_add(1, std::memory_order_relaxed);
    out = conn_slot{};
    out.owner_ = this;
    out.address_ = &entry->first;
    return verdict::ok;
}

std::uint64_t conn_limits::count(const std::string& address) const {
    std::lock_guard lock(mutex_);
    auto it = per_address_.find(address);
    return it == per_address_.end() ? 0 : it->second;
}

void conn_limits::release(const std::string& address) {
    std::lock_guard lock(mutex_);
    auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    total_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace wsgated::core
