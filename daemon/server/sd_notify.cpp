// sd_notify: see sd_notify.h.
#include "server/sd_notify.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace wsgated::server {

namespace {

// True if one of the newline-separated fields of `state` is exactly `field` (or, when `prefix`,
// begins with it).
bool has_field(std::string_view state, std::string_view field, bool prefix) {
    while (!state.empty()) {
        std::size_t nl = state.find('\n');
        std::string_view line = state.substr(0, nl);
        if (prefix ? line.substr(0, field.size()) == field : line == field) return true;
        if (nl == std::string_view::npos) break;
        state.remove_prefix(nl + 1);
    }
    return false;
}

long long monotonic_usec_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1'000'000LL + ts.tv_nsec / 1'000;
}

}  // namespace

// Why MONOTONIC_USEC: with Type=notify-reload (systemd >= 253) systemd refuses a RELOADING=1
// without it, and uses it to tell the READY=1 that ends this reload from one sent before it.
// It must be in the same datagram as RELOADING=1; older systemd ignores the unknown field.
std::string sd_notify_datagram(std::string_view state, long long monotonic_usec) {
    std::string out(state);
    if (!has_field(state, "RELOADING=1", false) || has_field(state, "MONOTONIC_USEC=", true))
        return out;
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += "MONOTONIC_USEC=";
    out += std::to_string(monotonic_usec);
    return out;
}

void sd_notify(std::string_view state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    // Taken before any other work, so that it is the moment the reload began.
    const std::string datagram = sd_notify_datagram(state, monotonic_usec_now());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    socklen_t alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    // Best effort by design: systemd not listening must never stop the gateway.
    (void)::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&addr), alen);
    ::close(fd);
}

std::optional<std::chrono::microseconds> sd_watchdog_interval() {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (!usec || !*usec) return std::nullopt;
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
        if (std::strtol(pid, nullptr, 10) != static_cast<long>(::getpid())) return std::nullopt;
    }
    long long v = std::strtoll(usec, nullptr, 10);
    if (v <= 0) return std::nullopt;
    return std::chrono::microseconds(v / 2);
}

}  // namespace wsgated::server
