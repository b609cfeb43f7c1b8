// sd_notify: the systemd notification datagram (READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1)
// sent to $NOTIFY_SOCKET, written against the documented protocol (sd_notify(3)) so that the
// daemon needs no libsystemd. A no-op when NOTIFY_SOCKET is unset.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace wsgated::server {

void sd_notify(std::string_view state);

// Half of $WATCHDOG_USEC (when set and meant for this process), the interval for WATCHDOG=1.
std::optional<std::chrono::microseconds> sd_watchdog_interval();

}  // namespace wsgated::server
