// tcp_echo: the floor peer of bench/run — a trivial raw TCP echo server, one thread, one
// epoll loop, no protocol at all. Whatever a WebSocket server does per message costs more
// than this, so wsbench against it (tcp:// URL) shows the client is not the limit.
//
//   tcp_echo [--listen HOST:PORT]     default 127.0.0.1:0; prints "listening on HOST:PORT"
//
// Each connection reads into one shared buffer and writes it straight back; what the
// kernel does not take is kept and the connection stops reading until it drains, so a
// client that does not read cannot make it grow without bound (at most 256 KiB each).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::size_t buf_size = 256 * 1024;

struct client {
    int fd;
    std::vector<char> pending;  // echoed bytes the socket did not take yet
};

int listen_on(const std::string& spec) {
    auto colon = spec.rfind(':');
    std::string host = spec.substr(0, colon), port = colon == std::string::npos ? "0" : spec.substr(colon + 1);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(std::uint16_t(std::atoi(port.c_str())));
    if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 4096) != 0) return -1;
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    std::printf("listening on %s:%u\n", ip, unsigned(ntohs(sa.sin_port)));
    std::fflush(stdout);
    return fd;
}

void drop(client* c) {
    close(c->fd);
    delete c;
}

// Writes what is pending; true when nothing is left.
bool flush(client* c) {
    while (!c->pending.empty()) {
        ssize_t w = send(c->fd, c->pending.data(), c->pending.size(), MSG_NOSIGNAL);
        if (w < 0) return false;
        c->pending.erase(c->pending.begin(), c->pending.begin() + w);
    }
    return true;
}

// Returns false when the connection ended.
bool echo(client* c, char* buf) {
    if (!c->pending.empty() && !flush(c)) return errno == EAGAIN;
    while (c->pending.empty()) {
        ssize_t n = read(c->fd, buf, buf_size);
        if (n == 0) return false;
        if (n < 0) return errno == EAGAIN;
        ssize_t w = send(c->fd, buf, std::size_t(n), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) return false;
        if (w < n) c->pending.assign(buf + (w < 0 ? 0 : w), buf + n);
        if (std::size_t(n) < buf_size) return true;  // edge-triggered: the socket is empty
    }
    return true;
}

void accept_all(int lfd, int ep) {
    for (;;) {
        int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = new client{fd, {}};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string spec = "127.0.0.1:0";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--listen" && i + 1 < argc) spec = argv[++i];
        else if (a.rfind("--listen=", 0) == 0) spec = a.substr(9);
        else return std::fprintf(stderr, "usage: tcp_echo [--listen HOST:PORT]\n"), 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = listen_on(spec);
    if (lfd < 0) return std::fprintf(stderr, "tcp_echo: cannot listen on %s: %s\n", spec.c_str(), std::strerror(errno)), 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event lev{};
    lev.events = EPOLLIN;
    lev.data.ptr = nullptr;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    std::vector<char> buf(buf_size);
    epoll_event evs[512];
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < n; ++i) {
            auto* c = static_cast<client*>(evs[i].data.ptr);
            if (!c) accept_all(lfd, ep);
            else if (!echo(c, buf.data())) drop(c);
        }
    }
}
