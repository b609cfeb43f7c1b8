// Tests for backend/http_pool against a real HTTP server on 127.0.0.1 (a thread with blocking
// sockets): keep-alive reuse, the connection budget, timeouts, refused connects, a stale idle
// connection retried, garbage answers.
#include "http_client/http_pool.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

using namespace wsgated;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// How the test server answers one request on a connection; returns false to close it after.
using behaviour = std::function<bool(tcp::socket&, const std::string& request_head)>;

// Writes without throwing: the pool may have closed the connection already (a timeout).
bool say(tcp::socket& s, const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
    return !ec;
}

bool answer_ok(tcp::socket& s, const std::string&) {
    return say(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

class test_server {
public:
    explicit test_server(behaviour b) : behaviour_(std::move(b)) {
        acceptor_.open(tcp::v4());
        acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        thread_ = std::thread([this] { accept_loop(); });
    }
    ~test_server() {
        stop_ = true;
        boost::system::error_code ec;
        {
            // Closing the acceptor does not wake a blocked accept(): a connection does.
            tcp::socket wake(ioc_);
            wake.connect(acceptor_.local_endpoint(), ec);
            thread_.join();
        }
        acceptor_.close(ec);
        {
            // The pool may still hold keep-alive connections: unblock their readers.
            std::lock_guard lock(mu_);
            for (auto& s : sockets_) s->shutdown(tcp::socket::shutdown_both, ec);
        }
        for (auto& t : conns_) t.join();
    }
    std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
    int accepted() const { return accepted_; }
    int most_open() const { return most_open_; }

private:
    void accept_loop() {
        while (!stop_) {
            auto s = std::make_shared<tcp::socket>(ioc_);
            boost::system::error_code ec;
            acceptor_.accept(*s, ec);
            if (ec || stop_) return;
            {
                std::lock_guard lock(mu_);
                sockets_.push_back(s);
            }
            ++accepted_;
            int now = ++open_;
            int seen = most_open_;
            while (now > seen && !most_open_.compare_exchange_weak(seen, now)) {}
            conns_.emplace_back([this, s] { serve(*s); });
        }
    }
    void serve(tcp::socket& s) {
        asio::streambuf buf;
        boost::system::error_code ec;
        while (!stop_) {
            std::size_t n = asio::read_until(s, buf, "\r\n\r\n", ec);
            if (ec) break;
            std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
            buf.consume(n);
            if (auto at = head.find("Content-Length: "); at != std::string::npos) {
                std::size_t len = std::stoul(head.substr(at + 16));
                if (buf.size() < len) asio::read(s, buf, asio::transfer_exactly(len - buf.size()), ec);
                buf.consume(len);
            }
            if (!behaviour_(s, head)) break;
        }
        s.shutdown(tcp::socket::shutdown_both, ec);
        --open_;
    }

    behaviour behaviour_;
    asio::io_context ioc_;
    tcp::acceptor acceptor_{ioc_};
    std::thread thread_;
    std::vector<std::thread> conns_;
    std::mutex mu_;
    std::vector<std::shared_ptr<tcp::socket>> sockets_;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0}, open_{0}, most_open_{0};
};

struct pool_fixture : ::testing::Test {
    asio::io_context ioc;
    std::vector<http_client::http_result> results;

    std::shared_ptr<http_client::http_pool> make_pool(const std::string& port, std::uint32_t max,
                                                  std::chrono::milliseconds timeout = 2000ms) {
        http_client::http_pool_options o;
        o.endpoint.host = "127.0.0.1";
        o.endpoint.port = port;
        o.endpoint.target = "/";
        o.timeout = timeout;
        return std::make_shared<http_client::http_pool>(ioc, o, std::make_shared<http_client::connection_budget>(max));
    }
    void submit(http_client::http_pool& p, std::chrono::milliseconds timeout = {}) {
        http_client::http_request req{boost::beast::http::verb::post, "/", 11};
        req.body() = "hello";
        p.submit(std::move(req), [this](http_client::http_result&& r) { results.push_back(std::move(r)); },
                 timeout);
    }
    void run_until(std::size_t n) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (results.size() < n && std::chrono::steady_clock::now() < deadline) ioc.run_for(10ms);
    }
};

}  // namespace

TEST_F(pool_fixture, keep_alive_connection_is_reused) {
    test_server server(answer_ok);
    auto pool = make_pool(server.port(), 4);
    for (int i = 0; i < 5; ++i) {
        submit(*pool);
        run_until(i + 1);
    }
    ASSERT_EQ(results.size(), 5u);
    for (auto& r : results) {
        EXPECT_EQ(r.failure, http_client::http_failure::none);
        EXPECT_EQ(r.response.body(), "ok");
    }
    EXPECT_EQ(server.accepted(), 1);
}

TEST_F(pool_fixture, budget_bounds_concurrent_connections) {
    test_server server([](tcp::socket& s, const std::string& h) {
        std::this_thread::sleep_for(20ms);  // keeps requests overlapping
        return answer_ok(s, h);
    });
    auto pool = make_pool(server.port(), 2);
    for (int i = 0; i < 20; ++i) submit(*pool);
    run_until(20);
    ASSERT_EQ(results.size(), 20u);
    for (auto& r : results) EXPECT_EQ(r.failure, http_client::http_failure::none);
    EXPECT_LE(server.most_open(), 2);
    EXPECT_EQ(server.accepted(), 2);
}

TEST_F(pool_fixture, slow_answer_times_out) {
    test_server server([](tcp::socket& s, const std::string& h) {
        std::this_thread::sleep_for(600ms);
        return answer_ok(s, h);
    });
    auto pool = make_pool(server.port(), 1, 200ms);
    submit(*pool);
    run_until(1);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].failure, http_client::http_failure::timeout);
    EXPECT_LT(results[0].elapsed, 500ms);
}

TEST_F(pool_fixture, queued_past_timeout_is_overloaded) {
    test_server server([](tcp::socket& s, const std::string& h) {
        std::this_thread::sleep_for(400ms);
        return answer_ok(s, h);
    });
    auto pool = make_pool(server.port(), 1, 2000ms);
    submit(*pool);          // takes the only connection, answered after 400 ms
    submit(*pool, 150ms);   // waits for it, and runs out of time first
    run_until(2);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].failure, http_client::http_failure::overloaded);
    EXPECT_LT(results[0].elapsed, 350ms);
    EXPECT_EQ(results[1].failure, http_client::http_failure::none);
}

TEST_F(pool_fixture, refused_connect_is_unreachable) {
    std::string port;
    {
        test_server gone(answer_ok);
        port = gone.port();
    }
    auto pool = make_pool(port, 2);
    submit(*pool);
    run_until(1);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].failure, http_client::http_failure::unreachable);
}

TEST_F(pool_fixture, idle_connection_closed_by_server_is_not_used) {
    // Answers keep-alive, then closes anyway: the next request must go on a new connection
    // and succeed (it never reached the backend on the old one).
    test_server server([](tcp::socket& s, const std::string& h) {
        answer_ok(s, h);
        return false;
    });
    auto pool = make_pool(server.port(), 1);
    submit(*pool);
    run_until(1);
    std::this_thread::sleep_for(50ms);  // the FIN arrives
    submit(*pool);
    run_until(2);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[1].failure, http_client::http_failure::none);
    EXPECT_EQ(server.accepted(), 2);
}

TEST_F(pool_fixture, garbage_answer_is_malformed) {
    test_server server([](tcp::socket& s, const std::string&) {
        say(s, "SSH-2.0-OpenSSH\r\n\r\n");
        return false;
    });
    auto pool = make_pool(server.port(), 1);
    submit(*pool);
    run_until(1);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].failure, http_client::http_failure::malformed);
}

TEST_F(pool_fixture, connection_closed_without_answer_is_reset) {
    test_server server([](tcp::socket&, const std::string&) { return false; });
    auto pool = make_pool(server.port(), 1);
    submit(*pool);
    run_until(1);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].failure, http_client::http_failure::reset);
}
