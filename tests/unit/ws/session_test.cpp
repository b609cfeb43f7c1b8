// Tests for ws/session over a real loopback socket pair, below the handshake: the session is
// started as ws/handshake starts it (session_start), the client side is raw bytes (masked
// frames written here, the server's frames parsed here), so each test sees exactly what goes on
// the wire. The read path (echo, fragments), the close paths (client close, drain, control API
// close), the limits (message size, invalid UTF-8, send_queue) and the written callback.
#include "ws/session.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "auth/auth_set.h"
#include "backend/backend_set.h"
#include "loader/loader.h"
#include "route/router.h"

using namespace wsgated;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace http = boost::beast::http;

namespace {

struct frame {
    int opcode = 0;
    std::string payload;
};

// One client frame: FIN, masked (RFC 6455 §5.3: a client must mask).
std::string client_frame(int opcode, std::string_view payload, bool fin = true) {
    std::string f;
    f.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    if (payload.size() < 126) {
        f.push_back(static_cast<char>(0x80 | payload.size()));
    } else {
        f.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((payload.size() >> (8 * i)) & 0xff));
    }
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    return f;
}

std::string close_payload(std::uint16_t code) { return {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)}; }

struct session_fixture : ::testing::Test {
    core::process_state state{1};
    core::worker worker{0};
    std::unique_ptr<hub::delivery> delivery;
    core::snapshot_ptr snapshot;
    tcp::socket client{worker.ioc()};
    std::string rx;  // client-side bytes read and not yet parsed

    void start(const std::string& limits = "") {
        state.set_worker_context(0, worker.ioc());
        delivery = std::make_unique<hub::delivery>(state);
        auto loaded = config::load_string("server:\n  limits: {" + limits + "}\n  heartbeat: {interval: 0}\n"
                                          "routes:\n  - path: /echo\n    backend: echo\n    rooms: [r]\n",
                                          "<test>");
        ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0].to_string();
        auto s = std::make_shared<core::snapshot>();
        s->routes = std::make_shared<const route::router>(loaded.config);
        s->backends = std::make_shared<const backend::backend_set>(*loaded.config, state, *delivery);
        s->auth = std::make_shared<const auth::auth_set>(*loaded.config, state);
        s->config_ptr = loaded.config;
        snapshot = s;
        open_session();
    }

    void open_session() {
        tcp::acceptor acceptor(worker.ioc(), {asio::ip::make_address("127.0.0.1"), 0});
        // Small kernel buffers (set before the connect, so the window follows): a client that
        // stops reading backs the server up after a few KiB, not megabytes.
        client.open(tcp::v4());
        client.set_option(asio::socket_base::receive_buffer_size(4096));
        client.connect(acceptor.local_endpoint());
        tcp::socket server(worker.ioc());
        acceptor.accept(server);
        server.set_option(asio::socket_base::send_buffer_size(4096));
        ws::upgrade_request req{http::verb::get, "/echo", 11};
        req.set(http::field::host, "localhost");
        req.set(http::field::connection, "Upgrade");
        req.set(http::field::upgrade, "websocket");
        req.set(http::field::sec_websocket_version, "13");
        req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
        auto decision = ws::decide_upgrade(req, *snapshot->routes);
        ASSERT_TRUE(decision.accepted());
        ws::session_start st{&worker, ws::services{state, *delivery}, snapshot, std::move(decision), std::move(req),
                             "127.0.0.1", {}, {}, {}};
        ws::start_session(ws::plain_stream(std::move(server)), std::move(st));
        read_101();
    }

    // Runs the worker's loop until `done()` or 10 s (CI's cores are loaded).
    template <class Pred>
    bool run_until(Pred done) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {  // done() may consume what it checks (a parsed frame): called once a turn
            if (done()) return true;
            if (std::chrono::steady_clock::now() >= until) return false;
            worker.ioc().restart();
            if (worker.ioc().poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }

    // Reads what the client socket has now (non-blocking) into rx.
    void pump() {
        client.non_blocking(true);
        char buf[65536];
        boost::system::error_code ec;
        for (;;) {
            std::size_t n = client.read_some(asio::buffer(buf), ec);
            if (ec) break;
            rx.append(buf, n);
        }
        eof_ = eof_ || ec == asio::error::eof || ec == asio::error::connection_reset;
    }

    void read_101() {
        ASSERT_TRUE(run_until([&] { pump(); return rx.find("\r\n\r\n") != std::string::npos; }));
        auto end = rx.find("\r\n\r\n");
        EXPECT_EQ(rx.rfind("HTTP/1.1 101", 0), 0u) << rx;
        rx.erase(0, end + 4);
    }

    // Parses one server frame from rx (unmasked), if whole.
    std::optional<frame> parse() {
        if (rx.size() < 2) return std::nullopt;
        auto b = [&](std::size_t i) { return static_cast<unsigned char>(rx[i]); };
        EXPECT_EQ(b(1) & 0x80, 0) << "a server must not mask";
        std::size_t len = b(1) & 0x7f, at = 2;
        if (len == 126) { if (rx.size() < 4) return std::nullopt; len = (b(2) << 8) | b(3); at = 4; }
        else if (len == 127) {
            if (rx.size() < 10) return std::nullopt;
            len = 0;
            for (int i = 0; i < 8; ++i) len = (len << 8) | b(2 + i);
            at = 10;
        }
        if (rx.size() < at + len) return std::nullopt;
        frame f{b(0) & 0x0f, rx.substr(at, len)};
        rx.erase(0, at + len);
        return f;
    }

    frame next_frame() {
        std::optional<frame> f;
        EXPECT_TRUE(run_until([&] { pump(); return (f = parse()).has_value(); })) << "no frame from the server";
        return f.value_or(frame{-1, {}});
    }

    void send(const std::string& bytes) { asio::write(client, asio::buffer(bytes)); }

    std::string member_id() {
        std::string id;
        delivery->room_members("r", worker.ioc().get_executor(), [&](hub::outcome, std::vector<hub::member> ms) {
            if (!ms.empty()) id = ms[0].id;
        });
        run_until([&] { return !id.empty(); });
        return id;
    }

    void TearDown() override {
        boost::system::error_code ec;
        client.close(ec);
        run_until([&] { return worker.live() == 0; });
    }

    bool eof_ = false;
};

std::uint16_t code_of(const frame& f) {
    return f.payload.size() >= 2 ? static_cast<std::uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8) |
                                                              static_cast<unsigned char>(f.payload[1]))
                                 : 0;
}

}  // namespace

TEST_F(session_fixture, echoes_text_binary_and_a_fragmented_message) {
    start();
    send(client_frame(1, "hello"));
    auto f = next_frame();
    EXPECT_EQ(f.opcode, 1);
    EXPECT_EQ(f.payload, "hello");
    send(client_frame(2, std::string("\0\1\2", 3)));
    f = next_frame();
    EXPECT_EQ(f.opcode, 2);
    EXPECT_EQ(f.payload, std::string("\0\1\2", 3));
    send(client_frame(1, "frag", false) + client_frame(9, "ping!") + client_frame(0, "mented"));
    f = next_frame();
    EXPECT_EQ(f.opcode, 10) << "the pong for a ping between fragments comes first";
    EXPECT_EQ(f.payload, "ping!");
    f = next_frame();
    EXPECT_EQ(f.payload, "fragmented");
}

TEST_F(session_fixture, a_client_close_is_answered_with_the_same_code_and_the_connection_leaves_the_hub) {
    start();
    auto id = member_id();
    ASSERT_EQ(id.size(), 28u);
    EXPECT_EQ(delivery->connections(), 1u);
    send(client_frame(8, close_payload(4000) + "bye"));
    auto f = next_frame();
    EXPECT_EQ(f.opcode, 8);
    EXPECT_EQ(code_of(f), 4000);
    EXPECT_TRUE(run_until([&] { pump(); return eof_; })) << "the server closes the TCP connection first";
    client.shutdown(tcp::socket::shutdown_send);  // and the client answers the FIN, as clients do
    EXPECT_TRUE(run_until([&] { return delivery->connections() == 0; }));
    EXPECT_EQ(state.metrics.connections.with({"/echo"}).value(), 0);
}

// RFC 6455 §7.4.2 defines no code of 5000 or more: the connection fails 1002, the code is never
// echoed (Beast 1.81 would echo it).
TEST_F(session_fixture, a_close_code_of_5000_or_more_fails_1002_and_is_not_echoed) {
    start();
    for (std::uint16_t code : {5000, 65535}) {
        send(client_frame(8, close_payload(code)));
        auto f = next_frame();
        EXPECT_EQ(f.opcode, 8);
        EXPECT_EQ(code_of(f), 1002) << code;
        EXPECT_EQ(f.payload.substr(2), "protocol error");  // our reason, not an echo
        EXPECT_TRUE(run_until([&] { pump(); return eof_; }));
        client.close();
        rx.clear();
        eof_ = false;
        EXPECT_TRUE(run_until([&] { return delivery->connections() == 0; }));
        open_session();
    }
    EXPECT_EQ(state.metrics.client_errors.with({"protocol"}).value(), 2u);
    // A valid code is still echoed as it came.
    send(client_frame(8, close_payload(4999)));
    EXPECT_EQ(code_of(next_frame()), 4999);
}

// One message larger than send_queue gets through when nothing else waits (SPEC §3): the bound
// is on what waits behind the write in flight.
TEST_F(session_fixture, one_message_larger_than_send_queue_gets_through_when_nothing_waits_behind_it) {
    start("send_queue: 64KiB, max_message_size: 1MiB");
    std::string big(256 * 1024, 'z');
    send(client_frame(2, big));
    auto f = next_frame();
    EXPECT_EQ(f.opcode, 2);
    EXPECT_EQ(f.payload.size(), big.size());
    EXPECT_EQ(state.metrics.slow_consumer_closes.value(), 0u);
}

TEST_F(session_fixture, a_drain_closes_1001) {
    start();
    worker.drain_all();
    auto f = next_frame();
    EXPECT_EQ(f.opcode, 8);
    EXPECT_EQ(code_of(f), 1001);
    send(client_frame(8, close_payload(1001)));
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(run_until([&] { pump(); return eof_; })) << "the server closes the TCP connection first";
    client.shutdown(tcp::socket::shutdown_send);
    EXPECT_TRUE(run_until([&] { return delivery->connections() == 0; }));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "not the close deadline's drop";
}

TEST_F(session_fixture, a_message_over_max_message_size_closes_1009) {
    start("max_message_size: 16");
    send(client_frame(1, std::string(17, 'x')));
    auto f = next_frame();
    EXPECT_EQ(f.opcode, 8);
    EXPECT_EQ(code_of(f), 1009);
    EXPECT_EQ(state.metrics.client_errors.with({"too_big"}).value(), 1u);
}

TEST_F(session_fixture, invalid_utf8_in_a_text_message_closes_1007) {
    start();
    send(client_frame(1, "\xff\xfe"));
    auto f = next_frame();
    EXPECT_EQ(f.opcode, 8);
    EXPECT_EQ(code_of(f), 1007);
    EXPECT_EQ(state.metrics.client_errors.with({"invalid_data"}).value(), 1u);
    EXPECT_EQ(state.metrics.client_errors.with({"protocol"}).value(), 0u);
}

// RFC 6455 §7.1.1: after the close handshake the server ends TCP first, and the backend hears
// the client's code; an empty close frame is answered 1000.
TEST_F(session_fixture, an_empty_close_is_answered_1000_and_the_server_ends_tcp_first) {
    start();
    send(client_frame(8, ""));
    auto f = next_frame();
    EXPECT_EQ(f.opcode, 8);
    EXPECT_EQ(code_of(f), 1000);
    EXPECT_TRUE(run_until([&] { pump(); return eof_; }));  // our FIN, while the client's end is still open
    client.close();
    EXPECT_TRUE(run_until([&] { return delivery->connections() == 0; }));
}

TEST_F(session_fixture, delivery_reaches_it_and_wait_written_answers_after_the_socket_took_the_bytes) {
    start();
    auto id = member_id();
    std::optional<hub::outcome> got;
    core::message m{std::make_shared<const std::string>("from the api"), false, {}};
    delivery->send(id, m, true, worker.ioc().get_executor(), [&](hub::outcome o) { got = o; });
    ASSERT_TRUE(run_until([&] { return got.has_value(); }));
    EXPECT_EQ(*got, hub::outcome::ok);
    EXPECT_EQ(next_frame().payload, "from the api");
    got.reset();
    delivery->close(id, 4001, "kicked", worker.ioc().get_executor(), [&](hub::outcome o) { got = o; });
    auto f = next_frame();
    EXPECT_EQ(code_of(f), 4001);
    EXPECT_EQ(f.payload.substr(2), "kicked");
    EXPECT_EQ(got, hub::outcome::ok);
    // Closing: a send is refused (counted), a written callback hears false.
    got.reset();
    delivery->send(id, m, true, worker.ioc().get_executor(), [&](hub::outcome o) { got = o; });
    ASSERT_TRUE(run_until([&] { return got.has_value(); }));
    EXPECT_EQ(*got, hub::outcome::gone);
}

TEST_F(session_fixture, over_send_queue_the_message_is_dropped_and_the_client_closed_1008) {
    start("send_queue: 64KiB");
    auto id = member_id();
    auto big = std::make_shared<const std::string>(16 * 1024, 'y');
    auto& closes = state.metrics.slow_consumer_closes;
    auto& dropped = state.metrics.messages_dropped.with({"slow_consumer"});
    // The client reads nothing: the kernel's few KiB fill, then the queue; the message past
    // send_queue is dropped and the session closes the client as a slow consumer.
    int sent = 0;
    for (; sent < 1000 && closes.value() == 0; ++sent) {
        bool done = false;
        delivery->send(id, core::message{big, true, {}}, false, worker.ioc().get_executor(),
                       [&](hub::outcome) { done = true; });
        ASSERT_TRUE(run_until([&] { return done; }));
    }
    EXPECT_EQ(closes.value(), 1u);
    EXPECT_EQ(dropped.value(), 1u);
    EXPECT_LT(sent, 40) << "64 KiB of queue and a few KiB of kernel buffers hold a handful of 16 KiB messages";
    // Closing now: a send that waits hears `gone`.
    std::optional<hub::outcome> got;
    delivery->send(id, core::message{big, true, {}}, true, worker.ioc().get_executor(), [&](hub::outcome o) { got = o; });
    ASSERT_TRUE(run_until([&] { return got.has_value(); }));
    EXPECT_EQ(*got, hub::outcome::gone);
    // What the client gets once it reads: the data frames queued before, then the close 1008.
    frame f;
    int data = 0;
    do {
        f = next_frame();
        data += f.opcode == 2;
    } while (f.opcode == 2);
    EXPECT_EQ(f.opcode, 8);
    EXPECT_EQ(code_of(f), 1008);
    EXPECT_GE(data, 1);
}
