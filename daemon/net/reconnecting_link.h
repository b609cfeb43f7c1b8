// reconnecting_link: one outgoing stream connection (TCP host:port or a Unix socket path) that
// is kept up for its owner's whole life. It connects; when an attempt fails, or the user
// reports the connection lost, it waits a backoff delay (exponential, with jitter, so that the
// workers of every gateway node do not reconnect in step after a backend restart) and connects
// again. It only owns the connection: reading and writing are the user's, who reports a read or
// write error with lost().
//
// Owned by the component that needs a persistent upstream: the stream backend (one link per
// worker) and the cluster's Redis client (which may layer TLS on the socket after connect).
// Everything runs on the single-threaded io_context given to create() (a worker's), and every
// member function must be called there: nothing here is thread-safe, by design (STYLE habit 4).
//
// Lifetime: pending operations hold the link (they bind shared_from_this()), so dropping the
// last pointer does not end it; the owner calls stop(). stop() also drops the handlers, so a
// handler that captured its owner does not keep it alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

namespace wsgated::net {

// Where a link connects.
struct link_target {
    bool unix_socket = false;
    std::string path;        // unix: the socket path
    std::string host, port;  // tcp: a name or address (resolved asynchronously), and a port
    // For logs: "unix:/run/x.sock", "redis.local:6379", "[::1]:6379".
    std::string text() const;
};

// How long a link waits between attempts. The k-th consecutive wait is
// min(initial * multiplier^k, max), of which a `jitter` fraction is drawn at random: the wait
// lies in [delay * (1 - jitter), delay]. Values out of range are clamped (jitter to [0, 1],
// multiplier to >= 1, max to >= initial); the config schema is where bad values are reported.
struct backoff_policy {
    std::chrono::milliseconds initial{100}, max{10000};
    double multiplier = 2.0;
    double jitter = 0.5;
    std::chrono::milliseconds connect_timeout{5000};  // bounds resolve + connect, per attempt
    // When the user has a handshake of its own over the connection (Redis's AUTH and PING), a
    // connect alone proves little: a server that accepts and then refuses (a wrong password, a
    // full server) would be retried at the initial delay forever. Set, the backoff starts over
    // only when the user calls healthy().
    bool reset_on_healthy = false;
};

class reconnecting_link : public std::enable_shared_from_this<reconnecting_link> {
public:
    // One socket type for TCP and Unix, so the user's protocol code is written once.
    using socket_type = boost::asio::generic::stream_protocol::socket;
    // idle → connecting → connected → waiting → connecting …; stopped is final.
    enum class state { idle, connecting, connected, waiting, stopped };

    // Called on the link's io_context; never from inside start() or stop(). on_down for a lost
    // link runs inside lost(), in the user's own error path, so it sees the link already down.
    struct handlers {
        // After each successful connect. The socket may be used in place or moved out (into an
        // ssl::stream, say; one moved out is the user's to close); either way the user calls
        // lost() when it dies.
        std::function<void(socket_type&)> on_connected;
        // A failed attempt (connection_refused, host_not_found, timed_out, …) or a lost link
        // (the error given to lost()), with the wait before the next attempt. The owner logs
        // (rate-limited) and counts it here.
        std::function<void(boost::system::error_code, std::chrono::milliseconds retry_in)> on_down;
    };

    static std::shared_ptr<reconnecting_link> create(boost::asio::io_context& ioc, link_target target,
                                                     backoff_policy policy, handlers h);

    // Begins connecting (idle → connecting); ignored in any other state.
    void start();
    // The user saw the current connection die (a read or write error): closes it, reports
    // on_down and schedules the next attempt. Ignored unless connected, so the second of two
    // failing operations on one connection does not reconnect twice.
    void lost(boost::system::error_code ec);
    // The same for a given connection (see connection_id()): also ignored when that connection
    // is already gone and a newer one is up, so a late error from an old socket cannot drop it.
    void lost(boost::system::error_code ec, std::uint64_t connection_id);
    // The user's own handshake over the current connection succeeded: the next loss waits the
    // initial delay again (with reset_on_healthy; without it a connect does that).
    void healthy();

    // Closes the socket and cancels the timers and the pending resolve or connect. Idempotent,
    // safe from inside a handler; no handler runs after it returns.
    void stop();

    state current() const { return state_; }
    // Valid while connected.
    socket_type& socket() { return socket_; }
    // Counts successful connects: 0 before the first, then 1, 2, …
    std::uint64_t connection_id() const { return connection_id_; }
    // Consecutive failed attempts since the last successful connect.
    unsigned failures() const { return failures_; }
    // The delay (before jitter) that the next wait will be drawn from; for tests and metrics.
    std::chrono::milliseconds next_delay() const;
    const link_target& target() const { return target_; }

private:
    reconnecting_link(boost::asio::io_context& ioc, link_target target, backoff_policy policy,
                      handlers h);

    void do_attempt();
    void do_resolve(std::uint64_t gen);
    void on_resolve(std::uint64_t gen, boost::system::error_code ec,
                    const boost::asio::ip::tcp::resolver::results_type& results);
    void do_connect(std::uint64_t gen);
    void on_connect(std::uint64_t gen, boost::system::error_code ec);
    void on_attempt_timeout(std::uint64_t gen, boost::system::error_code ec);
    void on_retry_timer(std::uint64_t gen, boost::system::error_code ec);
    void established();
    void fail(boost::system::error_code ec);
    void go_down(boost::system::error_code ec);
    void retire();
    std::chrono::milliseconds draw_wait();
    bool stale(std::uint64_t gen) const { return gen != generation_ || state_ == state::stopped; }

    boost::asio::io_context& ioc_;
    link_target target_;
    backoff_policy policy_;
    handlers handlers_;
    socket_type socket_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer attempt_timer_;  // connect_timeout of the attempt in progress
    boost::asio::steady_timer retry_timer_;    // the backoff wait
    std::vector<boost::asio::generic::stream_protocol::endpoint> endpoints_;  // of this attempt
    std::size_t next_endpoint_ = 0;
    std::minstd_rand rng_;
    state state_ = state::idle;
    // Bumped whenever the pending operations stop mattering (attempt over, link lost, stop):
    // a completion that carries an older value returns without touching anything.
    std::uint64_t generation_ = 0;
    std::uint64_t connection_id_ = 0;
    unsigned failures_ = 0;
    double delay_ms_ = 0;  // the next wait before jitter; double so a small multiplier still grows
};

}  // namespace wsgated::net
