// Tests for server/sd_notify: the datagram each state becomes, and that one reaches the socket
// named by NOTIFY_SOCKET (RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload requires).
#include "server/sd_notify.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using wsgated::server::sd_notify;
using wsgated::server::sd_notify_datagram;

TEST(sd_notify, reloading_gets_monotonic_usec_in_the_same_datagram) {
    EXPECT_EQ(sd_notify_datagram("RELOADING=1", 1234567), "RELOADING=1\nMONOTONIC_USEC=1234567");
    EXPECT_EQ(sd_notify_datagram("RELOADING=1\nSTATUS=reloading", 5),
              "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=5");
    EXPECT_EQ(sd_notify_datagram("STATUS=x\nRELOADING=1\n", 7),
              "STATUS=x\nRELOADING=1\nMONOTONIC_USEC=7");
}

TEST(sd_notify, other_states_are_sent_as_given) {
    EXPECT_EQ(sd_notify_datagram("READY=1", 1), "READY=1");
    EXPECT_EQ(sd_notify_datagram("STOPPING=1", 1), "STOPPING=1");
    EXPECT_EQ(sd_notify_datagram("WATCHDOG=1", 1), "WATCHDOG=1");
    EXPECT_EQ(sd_notify_datagram("RELOADING=10", 1), "RELOADING=10");  // not the field
}

TEST(sd_notify, a_monotonic_usec_already_given_is_kept) {
    EXPECT_EQ(sd_notify_datagram("RELOADING=1\nMONOTONIC_USEC=42", 99),
              "RELOADING=1\nMONOTONIC_USEC=42");
}

TEST(sd_notify, reloading_reaches_notify_socket_with_the_current_monotonic_time) {
    char dir[] = "/tmp/sd_notify_test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string path = std::string(dir) + "/notify";
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    long long before = ts.tv_sec * 1'000'000LL + ts.tv_nsec / 1'000;
    sd_notify("RELOADING=1");
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    long long after = ts.tv_sec * 1'000'000LL + ts.tv_nsec / 1'000;
    char buf[256] = {};
    ssize_t n = ::recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir);
    ASSERT_GT(n, 0);
    std::string got(buf, static_cast<std::size_t>(n));
    const std::string head = "RELOADING=1\nMONOTONIC_USEC=";
    ASSERT_EQ(got.substr(0, head.size()), head) << got;
    long long usec = std::stoll(got.substr(head.size()));
    EXPECT_GE(usec, before);
    EXPECT_LE(usec, after);
}
