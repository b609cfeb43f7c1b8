// room_index: which workers have members of which room, shared by all workers.
//
// A publish reads it once to post to exactly the workers that have members (one post per
// worker, never one per recipient); GET /v1/rooms/{room} reads the total. Changed only on
// join and leave (a mutex, never taken per message). Keeps the `rooms` gauge.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "metrics/registry.h"

namespace wsgated::hub {

class room_index {
public:
    room_index(unsigned workers, metrics::gauge& rooms_gauge) : workers_(workers), gauge_(rooms_gauge) {}

    void joined(const std::string& room, unsigned worker);
    void left(const std::string& room, unsigned worker);

    std::uint64_t members(const std::string& room) const;
    std::vector<unsigned> workers_of(const std::string& room) const;
    std::size_t rooms() const;

private:
    struct entry {
        std::vector<std::uint32_t> per_worker;
        std::uint64_t total = 0;
    };
    unsigned workers_;
    metrics::gauge& gauge_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> rooms_;
};

}  // namespace wsgated::hub
