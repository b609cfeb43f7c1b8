// http_pool: the one HTTP/1.1 client of the code base, used by the http backend (POSTs per
// event) and by the auth hook (a GET per handshake).
//
// One pool per endpoint per worker, touched only on that worker's thread: keep-alive
// connections are reused without a cross-thread lock. A connection_budget, shared by the pools
// of one endpoint on every worker, bounds the connections across the process
// (`max_connections`); a pool that finds the budget spent asks the other workers to give back
// their idle connections and waits for a free slot, within the request's timeout. While a pool
// waits, the others keep no more than their fair share (max_connections / workers): a worker
// whose clients keep its connections busy must not starve the clients of another worker.
//
// TCP (`http://host:port/path`, resolved asynchronously) and Unix sockets
// (`unix:/path.sock:/path`) share one code path through Asio's generic stream socket.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "config/gateway_config.h"

namespace wsgated::http_client {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

// How an exchange ended, before any look at the status code. Each maps to an outcome label
// and a close code in backend/backend_errc.
enum class http_failure {
    none,         // a complete response arrived (any status)
    unreachable,  // could not connect (refused, no route, DNS), after one retry
    overloaded,   // no connection became free within the timeout, or too many waiting
    timeout,      // the request was written but no complete answer came within the timeout
    reset,        // the connection failed after the request (or part of it) was written
    malformed,    // the answer is not HTTP/1.x, or over the size limit
};

struct http_result {
    http_failure failure = http_failure::none;
    http_response response;  // when failure == none
    std::chrono::steady_clock::duration elapsed{};  // submit to completion
};

// Called exactly once, on the pool's worker, never from inside submit().
using http_callback = std::function<void(http_result&&)>;

class http_pool;

// The process-wide bound on connections to one endpoint; every worker's pool draws from it.
class connection_budget {
public:
    explicit connection_budget(std::uint32_t max) : max_(max) {}
    bool try_acquire();
    void release() { used_.fetch_sub(1, std::memory_order_acq_rel); }
    std::uint32_t used() const { return used_.load(std::memory_order_relaxed); }

    // Pools register once, before the backend is published (so the list never changes while
    // workers read it). ask_to_shed posts shed_idle() to every other pool's worker.
    void add_pool(boost::asio::io_context& ioc, std::weak_ptr<http_pool> pool);
    void ask_to_shed(const http_pool* except);
    bool wanted() const { return waiters_.load(std::memory_order_relaxed) > 0; }
    // Whether a pool other than the caller waits (`self`: the caller is one of the waiters).
    bool wanted_by_others(bool self) const {
        return waiters_.load(std::memory_order_relaxed) > (self ? 1 : 0);
    }
    void add_waiter(int delta) { waiters_.fetch_add(delta, std::memory_order_relaxed); }
    // Whether a pool holding `held` connections holds more than its fair share, max / pools.
    bool over_share(std::size_t held) const { return held * pools_.size() > max_; }

private:
    const std::uint32_t max_;
    std::atomic<std::uint32_t> used_{0};
    std::atomic<int> waiters_{0};
    std::vector<std::pair<boost::asio::io_context*, std::weak_ptr<http_pool>>> pools_;
};

struct http_pool_options {
    config::http_endpoint endpoint;
    std::chrono::milliseconds timeout{5000};   // per request, from submit (queueing included)
    std::uint64_t body_limit = 4 * 1024 * 1024;  // largest response body accepted
    std::size_t max_waiting = 65536;             // requests queued for a connection
    std::chrono::milliseconds idle_timeout{4000};  // below Node's 5 s keep-alive default
    // Counts exchanges in flight, process-wide (the drain waits for them). May be null.
    std::atomic<std::size_t>* in_flight = nullptr;
};

class http_pool : public std::enable_shared_from_this<http_pool> {
public:
    http_pool(boost::asio::io_context& ioc, http_pool_options options,
              std::shared_ptr<connection_budget> budget);
    ~http_pool();
    http_pool(const http_pool&) = delete;
    http_pool& operator=(const http_pool&) = delete;

    // On the pool's worker. Sets Host, Content-Length and keep-alive on `req`. `timeout`
    // replaces the pool's for this request when not zero (the auth hook's share of what is
    // left of the handshake_timeout).
    void submit(http_request req, http_callback cb, std::chrono::milliseconds timeout = {});
    // On the pool's worker: closes idle connections (another worker waits for a slot).
    void shed_idle();
    // Connections this pool holds (busy + idle + connecting); for tests and /v1 info.
    std::size_t connections() const { return open_ + connecting_; }

    struct exchange;
    class conn;

private:
    void pump();
    void assign_idle();
    void open_more();
    void start_waiting();
    void on_wait_retry();
    void open_connection();
    void on_connected(const std::shared_ptr<conn>& c, boost::system::error_code ec);
    void start(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex);
    void on_write(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex,
                  boost::system::error_code ec);
    void read_answer(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex);
    void on_read(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex,
                 boost::system::error_code ec);
    void on_timeout(const std::shared_ptr<exchange>& ex, boost::system::error_code ec);
    void complete(const std::shared_ptr<exchange>& ex, http_failure f);
    void finish(const std::shared_ptr<exchange>& ex, http_result&& r);
    void retry_or_fail(const std::shared_ptr<exchange>& ex, http_failure f);
    void recycle(const std::shared_ptr<conn>& c);
    void hand_over(const std::shared_ptr<conn>& c);
    bool leave_to_others(std::size_t held) const;
    void drop(const std::shared_ptr<conn>& c);
    void close_conn(const std::shared_ptr<conn>& c);
    void arm_sweep();
    std::shared_ptr<exchange> next_waiting();

    boost::asio::io_context& ioc_;
    http_pool_options options_;
    std::shared_ptr<connection_budget> budget_;
    boost::asio::ip::tcp::resolver resolver_;
    std::string host_header_;
    std::deque<std::shared_ptr<exchange>> waiting_;  // FIFO; timed-out entries are skipped
    std::size_t waiting_live_ = 0;                   // entries of waiting_ not yet completed
    std::vector<std::shared_ptr<conn>> idle_;        // most recently used last
    std::size_t open_ = 0;        // connected (busy or idle), each holding a budget slot
    std::size_t connecting_ = 0;  // connecting, each holding a budget slot
    bool waiting_for_budget_ = false;
    boost::asio::steady_timer budget_timer_;
    boost::asio::steady_timer sweep_timer_;
    bool sweeping_ = false;
};

}  // namespace wsgated::http_client
