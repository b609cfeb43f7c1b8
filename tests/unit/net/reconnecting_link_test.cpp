// Tests for net/reconnecting_link against real sockets on one io_context: TCP listeners on
// 127.0.0.1 port 0, Unix sockets in a mkdtemp directory, refused connects (a port bound but not
// listening), a connect that never completes (a listener whose accept queue is full), an
// unresolvable name. Each test bounds its run with run_one_for.
#include "net/reconnecting_link.h"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <gtest/gtest.h>

using namespace wsgated::net;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using local_stream = asio::local::stream_protocol;
using error_code = boost::system::error_code;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct down_event {
    error_code ec;
    milliseconds retry_in;
    clock_type::time_point at;
};

// What a link reported; on_down_hook / on_connected_hook let a test act inside the callback.
struct recorder {
    int connected = 0;
    std::vector<down_event> downs;
    std::function<void()> on_connected_hook;
    std::function<void()> on_down_hook;

    reconnecting_link::handlers handlers() {
        return {[this](reconnecting_link::socket_type&) {
                    ++connected;
                    if (on_connected_hook) on_connected_hook();
                },
                [this](error_code ec, milliseconds retry_in) {
                    downs.push_back({ec, retry_in, clock_type::now()});
                    if (on_down_hook) on_down_hook();
                }};
    }
};

// A listener on the test's io_context that keeps every accepted socket (so the test can close
// them: "the peer closes"). With listen_now = false it is only bound: connects are refused
// until listen() — and nobody else can take the port meanwhile.
template <class Protocol>
struct test_listener {
    test_listener(asio::io_context& ioc, typename Protocol::endpoint ep, bool listen_now = true)
        : acceptor(ioc) {
        acceptor.open(ep.protocol());
        acceptor.bind(ep);
        if (listen_now) listen();
    }
    void listen() {
        acceptor.listen();
        accept();
    }
    void accept() {
        acceptor.async_accept([this](error_code ec, typename Protocol::socket s) {
            if (ec) return;
            peers.push_back(std::move(s));
            accept();
        });
    }
    std::string port() const { return std::to_string(acceptor.local_endpoint().port()); }

    typename Protocol::acceptor acceptor;
    std::vector<typename Protocol::socket> peers;
};

using tcp_listener = test_listener<tcp>;
using unix_listener = test_listener<local_stream>;

tcp::endpoint loopback_any_port() { return {asio::ip::make_address("127.0.0.1"), 0}; }

link_target tcp_target(const std::string& host, const std::string& port) {
    link_target t;
    t.host = host;
    t.port = port;
    return t;
}

link_target unix_target(const std::string& path) {
    link_target t;
    t.unix_socket = true;
    t.path = path;
    return t;
}

backoff_policy fast_policy(double jitter = 0.0) {
    backoff_policy p;
    p.initial = 10ms;
    p.max = 40ms;
    p.multiplier = 2.0;
    p.jitter = jitter;
    p.connect_timeout = 1000ms;
    return p;
}

// A TCP listener that never completes a handshake: backlog 0 holds one connection on Linux, a
// filler takes it, and SYNs that arrive while the accept queue is full are dropped (the client
// would retry after 1 s). Deterministic as long as the filler is in the queue before the link
// connects, which poll() on the listener confirms.
struct stalled_listener {
    explicit stalled_listener(asio::io_context& ioc) : acceptor(ioc), filler(ioc) {
        acceptor.open(tcp::v4());
        acceptor.bind(loopback_any_port());
        acceptor.listen(0);
        filler.connect(acceptor.local_endpoint());
        pollfd p{acceptor.native_handle(), POLLIN, 0};
        queue_full = ::poll(&p, 1, 1000) == 1;
    }
    std::string port() const { return std::to_string(acceptor.local_endpoint().port()); }

    tcp::acceptor acceptor;
    tcp::socket filler;
    bool queue_full = false;
};

// A directory of its own for Unix socket paths, removed with everything in it.
struct temp_dir {
    temp_dir() {
        std::array<char, 64> tmpl{};
        std::snprintf(tmpl.data(), tmpl.size(), "/tmp/rl_test_XXXXXX");
        path = ::mkdtemp(tmpl.data()) ? tmpl.data() : "";
    }
    ~temp_dir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
    std::string file(const char* name) const { return path + "/" + name; }
    std::string path;
};

class reconnecting_link_test : public ::testing::Test {
protected:
    void TearDown() override {
        for (auto& l : links_) l->stop();
    }

    std::shared_ptr<reconnecting_link> make(link_target t, backoff_policy p, recorder& r) {
        links_.push_back(reconnecting_link::create(ioc_, std::move(t), p, r.handlers()));
        return links_.back();
    }

    // Runs the io_context until pred() holds or `limit` has passed; returns pred().
    bool run_until(const std::function<bool()>& pred, milliseconds limit = 1500ms) {
        auto deadline = clock_type::now() + limit;
        while (!pred() && clock_type::now() < deadline) ioc_.run_one_for(5ms);
        return pred();
    }

    void run_for(milliseconds d) {
        auto deadline = clock_type::now() + d;
        while (clock_type::now() < deadline) ioc_.run_one_for(5ms);
    }

    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
    std::vector<std::shared_ptr<reconnecting_link>> links_;
};

TEST(link_target, text_names_the_target_for_logs) {
    EXPECT_EQ(unix_target("/run/x.sock").text(), "unix:/run/x.sock");
    EXPECT_EQ(tcp_target("redis.local", "6379").text(), "redis.local:6379");
    EXPECT_EQ(tcp_target("::1", "6379").text(), "[::1]:6379");
}

TEST_F(reconnecting_link_test, connects_to_tcp_listener_and_reports_once) {
    tcp_listener server(ioc_, loopback_any_port());
    recorder r;
    auto link = make(tcp_target("127.0.0.1", server.port()), fast_policy(), r);
    EXPECT_EQ(link->current(), reconnecting_link::state::idle);
    link->start();
    EXPECT_EQ(link->current(), reconnecting_link::state::connecting);
    ASSERT_TRUE(run_until([&] { return r.connected == 1 && server.peers.size() == 1; }));
    run_for(50ms);  // nothing else happens on a healthy link
    EXPECT_EQ(r.connected, 1);
    EXPECT_TRUE(r.downs.empty());
    EXPECT_EQ(server.peers.size(), 1u);
    EXPECT_EQ(link->current(), reconnecting_link::state::connected);
    EXPECT_EQ(link->connection_id(), 1u);
    EXPECT_EQ(link->failures(), 0u);
    EXPECT_EQ(link->socket().remote_endpoint(),
              asio::generic::stream_protocol::endpoint(server.acceptor.local_endpoint()));
    tcp::no_delay nodelay;
    link->socket().get_option(nodelay);
    EXPECT_TRUE(nodelay.value());
}

TEST_F(reconnecting_link_test, connects_to_unix_socket) {
    temp_dir dir;
    ASSERT_FALSE(dir.path.empty());
    unix_listener server(ioc_, local_stream::endpoint(dir.file("s.sock")));
    recorder r;
    auto link = make(unix_target(dir.file("s.sock")), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.connected == 1 && server.peers.size() == 1; }));
    EXPECT_EQ(link->current(), reconnecting_link::state::connected);
    EXPECT_EQ(link->socket().remote_endpoint().protocol().family(), AF_UNIX);
    EXPECT_TRUE(r.downs.empty());
}

// localhost may resolve to ::1 before 127.0.0.1; the listener is on 127.0.0.1 only, so this
// also covers moving on to the next resolved address.
TEST_F(reconnecting_link_test, resolves_host_name_and_connects) {
    tcp_listener server(ioc_, loopback_any_port());
    recorder r;
    auto link = make(tcp_target("localhost", server.port()), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.connected == 1 && server.peers.size() == 1; }));
    EXPECT_TRUE(r.downs.empty());
}

TEST_F(reconnecting_link_test, refused_connects_back_off_by_multiplier_up_to_max) {
    tcp_listener closed(ioc_, loopback_any_port(), false);
    recorder r;
    auto link = make(tcp_target("127.0.0.1", closed.port()), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 5; }));
    const std::vector<milliseconds> expected{10ms, 20ms, 40ms, 40ms, 40ms};
    for (std::size_t i = 0; i < r.downs.size(); ++i) {
        EXPECT_EQ(r.downs[i].ec, asio::error::connection_refused) << i;
        EXPECT_EQ(r.downs[i].retry_in, expected[i]) << i;
        if (i > 0) {  // the wait was honoured
            EXPECT_GE(r.downs[i].at - r.downs[i - 1].at, expected[i - 1]) << i;
        }
    }
    EXPECT_EQ(link->failures(), 5u);
    EXPECT_EQ(link->next_delay(), 40ms);
    EXPECT_EQ(link->current(), reconnecting_link::state::waiting);
    EXPECT_EQ(r.connected, 0);
}

TEST_F(reconnecting_link_test, jittered_waits_stay_within_bounds) {
    tcp_listener closed(ioc_, loopback_any_port(), false);
    recorder r;
    auto p = fast_policy(0.5);
    p.initial = 8ms;
    p.max = 32ms;
    auto link = make(tcp_target("127.0.0.1", closed.port()), p, r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 6; }));
    const std::vector<long> base{8, 16, 32, 32, 32, 32};
    for (std::size_t i = 0; i < r.downs.size(); ++i) {
        EXPECT_GE(r.downs[i].retry_in.count(), base[i] / 2) << i;
        EXPECT_LE(r.downs[i].retry_in.count(), base[i]) << i;
    }
    EXPECT_EQ(link->next_delay(), 32ms);
}

// Each link draws from its own generator: links started together do not retry together.
TEST_F(reconnecting_link_test, jitter_differs_between_links) {
    tcp_listener closed(ioc_, loopback_any_port(), false);
    auto p = fast_policy(0.5);
    p.initial = p.max = 1000ms;
    std::vector<recorder> rs(16);
    for (auto& r : rs) make(tcp_target("127.0.0.1", closed.port()), p, r)->start();
    ASSERT_TRUE(run_until([&] {
        for (auto& r : rs) if (r.downs.empty()) return false;
        return true;
    }));
    std::set<long> waits;
    for (auto& r : rs) {
        ASSERT_EQ(r.downs.size(), 1u);
        EXPECT_GE(r.downs[0].retry_in, 500ms);
        EXPECT_LE(r.downs[0].retry_in, 1000ms);
        waits.insert(r.downs[0].retry_in.count());
    }
    EXPECT_GT(waits.size(), 1u);
}

TEST_F(reconnecting_link_test, connects_once_listener_appears_and_resets_backoff) {
    tcp_listener server(ioc_, loopback_any_port(), false);
    recorder r;
    auto link = make(tcp_target("127.0.0.1", server.port()), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 2; }));
    EXPECT_EQ(link->failures(), 2u);
    EXPECT_EQ(link->next_delay(), 40ms);
    server.listen();
    ASSERT_TRUE(run_until([&] { return r.connected == 1; }));
    EXPECT_EQ(r.downs.size(), 2u);
    EXPECT_EQ(link->failures(), 0u);
    EXPECT_EQ(link->next_delay(), 10ms);
    EXPECT_EQ(link->current(), reconnecting_link::state::connected);
}

TEST_F(reconnecting_link_test, connects_once_unix_socket_appears) {
    temp_dir dir;
    recorder r;
    auto link = make(unix_target(dir.file("late.sock")), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 1; }));
    EXPECT_EQ(r.downs[0].ec, boost::system::errc::no_such_file_or_directory);
    unix_listener server(ioc_, local_stream::endpoint(dir.file("late.sock")));
    ASSERT_TRUE(run_until([&] { return r.connected == 1 && server.peers.size() == 1; }));
    EXPECT_EQ(link->failures(), 0u);
}

// The user's read sees the peer close and reports it; the link reconnects after one wait.
TEST_F(reconnecting_link_test, reconnects_after_peer_closes) {
    tcp_listener server(ioc_, loopback_any_port());
    recorder r;
    std::shared_ptr<reconnecting_link> link;
    std::array<char, 16> buf{};
    r.on_connected_hook = [&] {
        link->socket().async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) {
            if (ec) link->lost(ec);
        });
    };
    link = make(tcp_target("127.0.0.1", server.port()), fast_policy(0.5), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.connected == 1 && server.peers.size() == 1; }));
    server.peers[0].close();
    ASSERT_TRUE(run_until([&] { return r.connected == 2 && server.peers.size() == 2; }));
    ASSERT_EQ(r.downs.size(), 1u);
    EXPECT_EQ(r.downs[0].ec, asio::error::eof);
    EXPECT_GE(r.downs[0].retry_in, 5ms);  // the first wait after a connect: initial, jittered
    EXPECT_LE(r.downs[0].retry_in, 10ms);
    EXPECT_EQ(link->connection_id(), 2u);
    EXPECT_EQ(link->failures(), 0u);
}

TEST_F(reconnecting_link_test, second_lost_for_one_connection_is_ignored) {
    tcp_listener server(ioc_, loopback_any_port());
    recorder r;
    auto link = make(tcp_target("127.0.0.1", server.port()), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.connected == 1; }));
    link->lost(asio::error::connection_reset);  // say, the read failed…
    link->lost(asio::error::broken_pipe);       // …and then the write
    ASSERT_EQ(r.downs.size(), 1u);
    EXPECT_EQ(r.downs[0].ec, asio::error::connection_reset);
    EXPECT_EQ(link->current(), reconnecting_link::state::waiting);
    EXPECT_FALSE(link->socket().is_open());
    ASSERT_TRUE(run_until([&] { return r.connected == 2 && server.peers.size() == 2; }));
    run_for(100ms);  // several backoff periods: a second reconnect would show here
    EXPECT_EQ(r.connected, 2);
    EXPECT_EQ(server.peers.size(), 2u);
    EXPECT_EQ(r.downs.size(), 1u);
}

TEST_F(reconnecting_link_test, lost_for_an_old_connection_is_ignored) {
    tcp_listener server(ioc_, loopback_any_port());
    recorder r;
    auto link = make(tcp_target("127.0.0.1", server.port()), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.connected == 1; }));
    auto first = link->connection_id();
    link->lost(asio::error::eof, first);
    ASSERT_TRUE(run_until([&] { return r.connected == 2; }));
    link->lost(asio::error::operation_aborted, first);  // a late completion on the old socket
    EXPECT_EQ(link->current(), reconnecting_link::state::connected);
    EXPECT_EQ(r.downs.size(), 1u);
    EXPECT_TRUE(link->socket().is_open());
}

TEST_F(reconnecting_link_test, lost_when_not_connected_is_ignored) {
    tcp_listener closed(ioc_, loopback_any_port(), false);
    recorder r;
    auto link = make(tcp_target("127.0.0.1", closed.port()), fast_policy(), r);
    link->lost(asio::error::eof);  // idle
    EXPECT_EQ(link->current(), reconnecting_link::state::idle);
    link->start();
    link->lost(asio::error::eof);  // connecting
    EXPECT_EQ(link->current(), reconnecting_link::state::connecting);
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 1; }));
    link->lost(asio::error::eof);  // waiting
    EXPECT_EQ(r.downs.size(), 1u);
    EXPECT_EQ(link->next_delay(), 20ms);  // one step of backoff, not two
}

TEST_F(reconnecting_link_test, stop_inside_on_down_ends_callbacks) {
    tcp_listener closed(ioc_, loopback_any_port(), false);
    recorder r;
    std::shared_ptr<reconnecting_link> link;
    r.on_down_hook = [&] {
        link->stop();
        link->stop();  // idempotent
    };
    link = make(tcp_target("127.0.0.1", closed.port()), fast_policy(), r);
    std::weak_ptr<reconnecting_link> weak = link;
    link->start();
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 1; }));
    run_for(100ms);  // the 10 ms retry would have happened several times over
    EXPECT_EQ(r.downs.size(), 1u);
    EXPECT_EQ(r.connected, 0);
    EXPECT_EQ(link->current(), reconnecting_link::state::stopped);
    link->start();  // stopped is final
    EXPECT_EQ(link->current(), reconnecting_link::state::stopped);
    links_.clear();
    link.reset();
    run_for(10ms);
    EXPECT_TRUE(weak.expired());  // no pending operation still holds it
}

TEST_F(reconnecting_link_test, stop_inside_on_connected_closes_socket) {
    tcp_listener server(ioc_, loopback_any_port());
    recorder r;
    std::shared_ptr<reconnecting_link> link;
    r.on_connected_hook = [&] { link->stop(); };
    link = make(tcp_target("127.0.0.1", server.port()), fast_policy(), r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.connected == 1; }));
    run_for(50ms);
    EXPECT_EQ(r.connected, 1);
    EXPECT_TRUE(r.downs.empty());
    EXPECT_FALSE(link->socket().is_open());
    EXPECT_EQ(link->current(), reconnecting_link::state::stopped);
}

// A handler that holds its owner (here a token) must not keep it alive past stop().
TEST_F(reconnecting_link_test, stop_releases_handlers) {
    auto owner = std::make_shared<int>(0);
    reconnecting_link::handlers h;
    h.on_connected = [owner](reconnecting_link::socket_type&) {};
    h.on_down = [owner](error_code, milliseconds) {};
    auto link = reconnecting_link::create(ioc_, unix_target("/nonexistent/x.sock"), fast_policy(), h);
    h = {};
    EXPECT_EQ(owner.use_count(), 3);  // ours and one per handler
    link->stop();
    EXPECT_EQ(owner.use_count(), 1);
}

TEST_F(reconnecting_link_test, stop_with_connect_pending_calls_nothing) {
    stalled_listener server(ioc_);
    ASSERT_TRUE(server.queue_full);
    recorder r;
    auto link = make(tcp_target("127.0.0.1", server.port()), fast_policy(), r);
    std::weak_ptr<reconnecting_link> weak = link;
    link->start();
    run_for(20ms);
    ASSERT_EQ(link->current(), reconnecting_link::state::connecting);  // the connect is pending
    link->stop();
    run_for(50ms);
    EXPECT_EQ(r.connected, 0);
    EXPECT_TRUE(r.downs.empty());
    links_.clear();
    link.reset();
    run_for(10ms);
    // Long before the SYN retry (1 s) and connect_timeout (1 s): stop() cancelled both the
    // connect and the attempt timer, or their handlers would still hold the link.
    EXPECT_TRUE(weak.expired());
}

// A Unix connect succeeds inside async_connect and only its handler is queued, carrying
// success: stop() before it runs must still win (the handler asks the link, not its error).
TEST_F(reconnecting_link_test, stop_before_a_completed_connect_is_handled_calls_nothing) {
    temp_dir dir;
    unix_listener server(ioc_, local_stream::endpoint(dir.file("s.sock")));
    recorder r;
    auto link = make(unix_target(dir.file("s.sock")), fast_policy(), r);
    link->start();
    link->stop();
    run_for(50ms);
    EXPECT_EQ(r.connected, 0);
    EXPECT_TRUE(r.downs.empty());
    EXPECT_EQ(link->current(), reconnecting_link::state::stopped);
}

TEST_F(reconnecting_link_test, stop_while_resolving_calls_nothing) {
    recorder r;
    auto link = make(tcp_target("localhost", "1"), fast_policy(), r);
    link->start();
    link->stop();
    run_for(50ms);
    EXPECT_EQ(r.connected, 0);
    EXPECT_TRUE(r.downs.empty());
}

// .invalid never resolves (RFC 6761). A resolver answers NXDOMAIN at once; where DNS is
// unreachable the attempt ends at connect_timeout instead: either way an error, then a retry.
TEST_F(reconnecting_link_test, unresolvable_host_reports_error_and_retries) {
    recorder r;
    auto p = fast_policy();
    p.connect_timeout = 300ms;
    auto link = make(tcp_target("name.invalid", "80"), p, r);
    link->start();
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 2; }));
    for (auto& d : r.downs) {
        EXPECT_TRUE(d.ec == asio::error::host_not_found || d.ec == asio::error::host_not_found_try_again ||
                    d.ec == asio::error::timed_out)
            << d.ec.message();
    }
    EXPECT_EQ(link->failures(), 2u);
    EXPECT_EQ(r.connected, 0);
}

TEST_F(reconnecting_link_test, connect_timeout_reports_timed_out) {
    stalled_listener server(ioc_);
    ASSERT_TRUE(server.queue_full);
    recorder r;
    auto p = fast_policy();
    p.connect_timeout = 50ms;
    auto link = make(tcp_target("127.0.0.1", server.port()), p, r);
    auto started = clock_type::now();
    link->start();
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 2; }));
    EXPECT_EQ(r.downs[0].ec, asio::error::timed_out);
    EXPECT_EQ(r.downs[1].ec, asio::error::timed_out);
    EXPECT_GE(r.downs[0].at - started, 50ms);
    EXPECT_GE(r.downs[1].at - r.downs[0].at, 60ms);  // 10 ms wait + 50 ms attempt
    EXPECT_EQ(r.connected, 0);
    EXPECT_EQ(link->failures(), 2u);
}

TEST_F(reconnecting_link_test, unix_path_too_long_reports_error_without_throwing) {
    recorder r;
    auto link = make(unix_target("/tmp/" + std::string(200, 'x')), fast_policy(), r);
    link->start();
    EXPECT_TRUE(r.downs.empty());  // never from inside start()
    ASSERT_TRUE(run_until([&] { return r.downs.size() == 2; }));
    EXPECT_EQ(r.downs[0].ec, asio::error::name_too_long);
    EXPECT_EQ(r.connected, 0);
}

}  // namespace
