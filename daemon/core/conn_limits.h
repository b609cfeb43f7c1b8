// conn_limits: server.limits.max_connections and max_connections_per_ip, shared by every
// worker (SPEC §3: over the total = 503 with Retry-After, over the per-address limit = 429).
//
// Taken once per handshake, after the client address is known (PROXY header or trusted
// X-Forwarded-For), and released when the connection ends; never touched per message. The
// per-address table takes a mutex for that reason; an address whose count drops to zero is
// erased, so the table holds only addresses with open connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace wsgated::core {

class conn_limits;

// One admitted connection's share of the limits; gives it back when destroyed. Movable so the
// handshake can hand it to the session.
class conn_slot {
public:
    conn_slot() = default;
    conn_slot(conn_slot&& o) noexcept : owner_(o.owner_), address_(o.address_) { o.owner_ = nullptr; }
    conn_slot& operator=(conn_slot&& o) noexcept;
    ~conn_slot() { release(); }
    bool held() const { return owner_ != nullptr; }

private:
    friend class conn_limits;
    void release();
    conn_limits* owner_ = nullptr;
    // The key of its entry in the per-address table: stable while the entry is (a node-based
    // map), and a pointer, not a copy, in every connection.
    const std::string* address_ = nullptr;
};

class conn_limits {
public:
    enum class verdict { ok, over_total, over_per_address };

    verdict acquire(const std::string& address, std::uint64_t max_total,
                    std::uint64_t max_per_address, conn_slot& out);
    std::uint64_t total() const { return total_.load(std::memory_order_relaxed); }
    std::uint64_t count(const std::string& address) const;

private:
    friend class conn_slot;
    void release(const std::string& address);

    std::atomic<std::uint64_t> total_{0};
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::uint64_t> per_address_;
};

}  // namespace wsgated::core
