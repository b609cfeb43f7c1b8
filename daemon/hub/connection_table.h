// connection_table: which worker holds which connection id, and which ids belong to which user,
// for every worker (the control API's way to find a connection).
//
// Written once when a connection opens and once when it ends; read by control API calls.
// Sharded by id so that handshake storms on many workers do not queue on one mutex.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace wsgated::hub {

class connection_table {
public:
    // `id` must stay valid until remove(): it is the connection's own id, viewed, not copied.
    void add(std::string_view id, unsigned worker, const std::string& user);
    void remove(std::string_view id, const std::string& user);
    std::optional<unsigned> worker_of(const std::string& id) const;
    // (worker, id) of every connection of `user`.
    std::vector<std::pair<unsigned, std::string>> of_user(const std::string& user) const;
    std::size_t size() const;

private:
    static constexpr std::size_t shard_count = 16;
    struct shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string_view, unsigned> workers;  // views of the connections' ids
    };
    shard& shard_of(std::string_view id) const;

    mutable std::array<shard, shard_count> shards_;
    mutable std::mutex users_mutex_;
    std::unordered_map<std::string, std::unordered_set<std::string_view>> users_;
};

}  // namespace wsgated::hub
