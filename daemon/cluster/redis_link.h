// redis_link: one connection to Redis, kept up for the cluster bus's whole life: connect (with
// net::reconnecting_link's backoff and jitter), TLS for rediss://, AUTH and SELECT, then
// pipelined commands whose replies come back in order, or (a subscriber link) the pushes of
// pub/sub. A node holds two: one for commands, one for its subscriptions, because a RESP2
// connection that subscribes can send nothing but (un)subscriptions.
//
// Writes coalesce: every command queued during one turn of the event loop leaves in one write,
// and those queued while a write is in flight leave together in the next.
//
// Owned by cluster_bus; everything runs on the io_context given to create() (the control
// thread's), like net::reconnecting_link. Handlers bind shared_from_this(); stop() ends it.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>

#include "cluster/resp.h"
#include "net/reconnecting_link.h"

namespace wsgated::cluster {

// Where and how to reach Redis.
struct redis_endpoint {
    net::link_target target;
    std::string user, password;  // AUTH when the password is set
    int db = 0;                  // SELECT (command links)
    std::shared_ptr<boost::asio::ssl::context> tls;  // rediss://: verifies `target.host`
};

class redis_link : public std::enable_shared_from_this<redis_link> {
public:
    // nullptr: the connection was lost (or never up) before the reply came.
    using reply_fn = std::function<void(const redisReply*)>;
    struct handlers {
        std::function<void()> on_up;  // connected, authenticated, database selected
        std::function<void(boost::system::error_code, std::chrono::milliseconds retry_in)> on_down;
        std::function<void(const redisReply&)> on_push;  // a subscriber link's replies and messages
    };

    static std::shared_ptr<redis_link> create(boost::asio::io_context& ioc, redis_endpoint endpoint,
                                              net::backoff_policy policy, bool subscriber, handlers h);
    void start();
    void stop();
    bool up() const { return up_; }
    // The owner knows the connection is no good (no probe comes back): drop it and reconnect.
    void drop(boost::system::error_code ec) { fail(ec, conn_); }

    // A command link: queues a command; `done` runs with its reply. When the link is down,
    // `done(nullptr)` is posted at once: nothing waits for a reconnect.
    void command(std::span<const std::string_view> args, reply_fn done);
    void command(std::initializer_list<std::string_view> args, reply_fn done) {
        command(std::span<const std::string_view>(args.begin(), args.size()), std::move(done));
    }
    // A subscriber link: queues a command whose replies arrive as pushes. Dropped when down
    // (the bus resubscribes everything in on_up).
    void send(std::span<const std::string_view> args);
    void send(std::initializer_list<std::string_view> args) {
        send(std::span<const std::string_view>(args.begin(), args.size()));
    }
    std::size_t pending() const { return callbacks_.size(); }
    // What Redis answered to the last refused AUTH or SELECT ("WRONGPASS …"), for the log.
    const std::string& refusal() const { return refusal_; }

private:
    using tls_stream = boost::asio::ssl::stream<net::reconnecting_link::socket_type>;
    redis_link(boost::asio::io_context& ioc, redis_endpoint endpoint, net::backoff_policy policy, bool subscriber,
               handlers h);
    void keep_alive(net::reconnecting_link::socket_type& s);
    void arm_hello_deadline();

    void on_connected(net::reconnecting_link::socket_type& s);
    void on_tls_handshake(std::uint64_t conn, boost::system::error_code ec);
    void do_hello();
    void on_ready(std::uint64_t conn, const redisReply* r);
    void schedule_write();
    void do_write();
    void on_write(std::uint64_t conn, boost::system::error_code ec);
    void do_read();
    void on_read(std::uint64_t conn, boost::system::error_code ec, std::size_t n);
    void dispatch(reply_ptr r);
    void fail(boost::system::error_code ec, std::uint64_t conn);
    void drop_callbacks();
    void queue(std::span<const std::string_view> args);
    void queue(std::initializer_list<std::string_view> args) {
        queue(std::span<const std::string_view>(args.begin(), args.size()));
    }

    boost::asio::io_context& ioc_;
    redis_endpoint endpoint_;
    bool subscriber_;
    handlers handlers_;
    std::shared_ptr<net::reconnecting_link> link_;
    // TLS handshake and AUTH/SELECT/PING together within the policy's connect_timeout: a peer
    // that accepts and then says nothing is dropped, not waited on for good.
    boost::asio::steady_timer hello_deadline_;
    std::chrono::milliseconds hello_timeout_;
    // Shared with its pending operations, so dropping it on a failure is safe.
    std::shared_ptr<tls_stream> tls_;
    std::uint64_t conn_ = 0;  // the link's connection_id() this state belongs to
    bool connected_ = false;  // the socket is up (commands of the handshake may go)
    bool up_ = false;         // the handshake is done (the user's commands may go)
    bool writing_ = false, write_scheduled_ = false;
    std::string out_, in_flight_, refusal_;
    std::deque<reply_fn> callbacks_;
    std::optional<resp_reader> reader_;
    std::array<char, 16384> read_buf_;
};

}  // namespace wsgated::cluster
