// sd_notify: the systemd notification datagram (READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1)
// sent to $NOTIFY_SOCKET, written against the documented protocol (sd_notify(3)) so that the
// daemon needs no libsystemd. A no-op when NOTIFY_SOCKET is unset.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace wsgated::server {

// Sends `state` (newline-separated VAR=VALUE fields) in one datagram. A state with a
// RELOADING=1 line also gets MONOTONIC_USEC=<now> unless it carries one already: systemd >= 253
// requires it for Type=notify-reload (see sd_notify.cpp).
void sd_notify(std::string_view state);

// `state` as sd_notify sends it, with MONOTONIC_USEC added to a RELOADING=1 state;
// `monotonic_usec` is CLOCK_MONOTONIC in microseconds. Separate so that it can be tested.
std::string sd_notify_datagram(std::string_view state, long long monotonic_usec);

// Half of $WATCHDOG_USEC (when set and meant for this process), the interval for WATCHDOG=1.
std::optional<std::chrono::microseconds> sd_watchdog_interval();

}  // namespace wsgated::server
