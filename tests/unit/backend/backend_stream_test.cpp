// Tests for backend/stream_backend and backend_stream on one io_context, against a real Unix
// socket server in the test (the backend's side): events held while down arrive after hello and
// the replay, a client is paused past max_buffer and resumed once the backend reads, a backend
// that stays away closes its clients 1013 and refuses upgrades, actions reach the connection.
#include "backend/stream_backend.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include "config/gateway_config.h"
#include "hub/delivery.h"

using namespace wsgated;
namespace asio = boost::asio;
using local_stream = asio::local::stream_protocol;
using namespace std::chrono_literals;

namespace {

struct test_connection final : core::connection {
    explicit test_connection(std::string i) : id_(std::move(i)) {}
    std::string_view id() const override { return id_; }
    const std::string& user() const override { return user_; }
    void send(core::message m) override { got.push_back(*m.data); }
    void send_copy(std::string_view p, bool) override { got.emplace_back(p); }
    void close(std::uint16_t code, std::string_view) override { closed = code; }
    void resume_reading() override { ++resumed; }
    core::connection_info info() const override {
        core::connection_info i;
        i.id = id_;
        i.route = "/r";
        return i;
    }
    std::string id_, user_;
    std::vector<std::string> got;
    std::uint16_t closed = 0;
    int resumed = 0;
};

struct stream_fixture : ::testing::Test {
    asio::io_context ioc{1};
    core::process_state state{1};
    std::unique_ptr<hub::delivery> delivery;
    std::string dir, sock_path;
    config::gateway_config gw;
    config::backend_config bc;

    void SetUp() override {
        state.set_worker_context(0, ioc);
        delivery = std::make_unique<hub::delivery>(state);
        char tmpl[] = "/tmp/wsgated-stream-XXXXXX";
        dir = mkdtemp(tmpl);
        sock_path = dir + "/b.sock";
        gw.server.limits.max_message_size = 1 << 20;
        bc.name = "s";
        bc.type = config::backend_type::stream;
        bc.path = sock_path;
        bc.max_buffer = 64 * 1024;
        bc.timeout = 300ms;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    template <class Pred>
    bool run_until(Pred pred, std::chrono::milliseconds limit = 5s) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!pred() && std::chrono::steady_clock::now() < end) ioc.run_one_for(10ms);
        return pred();
    }
    // Reads frames from the backend's side until `n` headers are in.
    std::vector<boost::json::object> read_frames(local_stream::socket& s, std::size_t n, std::string& buf) {
        std::vector<boost::json::object> out;
        std::array<char, 65536> chunk;
        bool reading = false;
        run_until([&] {
            for (;;) {
                auto nl = buf.find('\n');
                if (nl == std::string::npos) break;
                auto h = boost::json::parse(buf.substr(0, nl)).as_object();
                std::size_t size = h.contains("size") ? h.at("size").as_int64() : 0;
                if (buf.size() < nl + 1 + size) break;
                buf.erase(0, nl + 1 + size);
                out.push_back(std::move(h));
            }
            if (out.size() < n && !reading) {
                reading = true;
                s.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t k) {
                    reading = false;
                    if (!ec) buf.append(chunk.data(), k);
                });
            }
            return out.size() >= n;
        });
        if (reading) s.cancel(), run_until([&] { return !reading; });
        return out;
    }
};

TEST_F(stream_fixture, events_held_while_down_follow_hello_and_the_replay) {
    backend::stream_backend b(bc, gw, state, *delivery);
    auto c = std::make_shared<test_connection>(delivery->new_connection_id());
    ioc.poll();  // start(): nothing listens yet, the link retries
    delivery->enter(*c, 0);
    auto ch = b.open(c, {0, 7});
    EXPECT_TRUE(ch->on_message("held", false));
    local_stream::acceptor acceptor(ioc, local_stream::endpoint(sock_path));
    local_stream::socket s(ioc);
    bool accepted = false;
    acceptor.async_accept(s, [&](boost::system::error_code ec) { accepted = !ec; });
    ASSERT_TRUE(run_until([&] { return accepted; }));
    std::string buf;
    auto frames = read_frames(s, 3, buf);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].at("event").as_string(), "hello");
    EXPECT_EQ(frames[1].at("event").as_string(), "connect");
    EXPECT_TRUE(frames[1].at("replay").as_bool());
    EXPECT_EQ(frames[1].at("conn").as_string(), c->id());
    EXPECT_EQ(frames[2].at("event").as_string(), "message");
    // An action back: a send to the connection of this worker, then an ack for an unknown one.
    std::string id(c->id());
    std::string action = "{\"action\":\"send\",\"conn\":\"" + id + "\",\"size\":2}\nhi" +
                         "{\"action\":\"close\",\"conn\":\"" + id.substr(0, 6) + std::string(22, 'Q') +
                         "\",\"id\":9}\n";
    asio::write(s, asio::buffer(action));
    ASSERT_TRUE(run_until([&] { return !c->got.empty(); }));
    EXPECT_EQ(c->got[0], "hi");
    auto ack = read_frames(s, 1, buf);
    ASSERT_EQ(ack.size(), 1u);
    EXPECT_EQ(ack[0].at("error").as_string(), "not_found");
    ch->on_close(1000, "");
    delivery->leave_all(*c, 0);
    auto bye = read_frames(s, 1, buf);
    ASSERT_EQ(bye.size(), 1u);
    EXPECT_EQ(bye[0].at("event").as_string(), "disconnect");
}

TEST_F(stream_fixture, past_max_buffer_the_client_pauses_until_the_backend_reads) {
    local_stream::acceptor acceptor(ioc, local_stream::endpoint(sock_path));
    local_stream::socket s(ioc);
    acceptor.async_accept(s, [](boost::system::error_code) {});
    backend::stream_backend b(bc, gw, state, *delivery);
    ASSERT_TRUE(run_until([&] { return s.is_open() && b.accepting(0); }));
    auto c = std::make_shared<test_connection>(delivery->new_connection_id());
    delivery->enter(*c, 0);
    auto ch = b.open(c, {0, 7});
    std::string chunk(16 * 1024, 'x');
    int accepted = 0;
    while (accepted < 10000 && ch->on_message(chunk, true)) {
        ++accepted;
        ioc.poll();  // the stream writes into the socket buffer until it is full
    }
    EXPECT_LT(accepted, 10000) << "never paused: the stream grew without a bound";
    EXPECT_EQ(c->resumed, 0);
    std::string buf;
    std::array<char, 65536> sink;
    ASSERT_TRUE(run_until([&] {  // the backend reads: the client is resumed
        boost::system::error_code ec;
        while (s.available(ec) > 0) s.read_some(asio::buffer(sink), ec);
        return c->resumed > 0;
    }));
    ch->on_close(1000, "");
    delivery->leave_all(*c, 0);
}

TEST_F(stream_fixture, a_backend_away_past_timeout_closes_1013_and_refuses_upgrades) {
    backend::stream_backend b(bc, gw, state, *delivery);
    auto c = std::make_shared<test_connection>(delivery->new_connection_id());
    delivery->enter(*c, 0);
    auto ch = b.open(c, {0, 7});
    EXPECT_TRUE(b.accepting(0));
    ASSERT_TRUE(run_until([&] { return c->closed != 0; }));
    EXPECT_EQ(c->closed, 1013);
    EXPECT_FALSE(b.accepting(0));
    EXPECT_EQ(state.metrics.backend_requests.with({"s", "unreachable"}).value(), 1u);
    ch->on_close(1013, "backend unavailable");
    delivery->leave_all(*c, 0);
}

}  // namespace
