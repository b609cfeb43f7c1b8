// close_codes: every WebSocket close code wsgated sends, with its reason text, in one place,
// so docs/protocol.md and the code cannot drift apart.
#pragma once

#include <cstdint>
#include <string_view>

namespace wsgated::protocol {

struct close_reason {
    std::uint16_t code;
    std::string_view reason;
};

inline constexpr close_reason close_normal{1000, ""};
inline constexpr close_reason close_going_away{1001, "going away"};        // drain (SIGTERM)
inline constexpr close_reason close_protocol_error{1002, "protocol error"};
inline constexpr close_reason close_bad_data{1007, "invalid payload data"};
inline constexpr close_reason close_slow_consumer{1008, "slow consumer"};
inline constexpr close_reason close_rate_limited{1008, "rate limited"};
inline constexpr close_reason close_too_big{1009, "message too big"};
inline constexpr close_reason close_internal{1011, "internal error"};
inline constexpr close_reason close_service_restart{1012, "service restart"};
inline constexpr close_reason close_try_again{1013, "try again later"};
// Backend failures (backend/backend_errc chooses): 1013 when trying again later may work.
inline constexpr close_reason close_backend_error{1011, "backend error"};
inline constexpr close_reason close_backend_timeout{1011, "backend timeout"};
inline constexpr close_reason close_backend_unavailable{1013, "backend unavailable"};

}  // namespace wsgated::protocol
