// Tests for ws/coalescing_stream over a real loopback TCP connection, plain and TLS: what is
// appended in one turn leaves in one write, in order; on_written tells the truth; a receive
// hands out what one syscall brought, kept bytes first, and flushes the answers before it waits.
#include "ws/coalescing_stream.h"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/asio/write.hpp>

#include "../support/tls_pair.h"

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using layer = wsgated::ws::coalescing_stream<boost::beast::tcp_stream>;

namespace {

struct loopback : ::testing::Test {
    net::io_context ioc;
    tcp::socket peer{ioc};  // the "client"
    std::shared_ptr<layer> out;  // owns itself, as a session owns its layer

    void SetUp() override {
        tcp::acceptor acc(ioc, {net::ip::make_address("127.0.0.1"), 0});
        peer.connect(acc.local_endpoint());
        out = std::make_shared<layer>(boost::beast::tcp_stream(acc.accept()));
        out->set_owner(out);
    }

    // Everything the peer can read within a short while, one read_some at a time.
    std::vector<std::string> peer_reads(std::size_t expect_bytes) {
        std::vector<std::string> reads;
        std::size_t total = 0;
        while (total < expect_bytes) {
            ioc.restart();
            ioc.run_for(std::chrono::milliseconds(20));
            peer.non_blocking(true);
            char buf[65536];
            error_code ec;
            std::size_t n = peer.read_some(net::buffer(buf), ec);
            if (ec == net::error::would_block) continue;
            if (ec) break;
            reads.emplace_back(buf, n);
            total += n;
        }
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(20));  // the write's completion
        return reads;
    }
};

}  // namespace

TEST_F(loopback, appends_in_one_turn_leave_in_one_write) {
    for (int i = 0; i < 100; ++i) out->append("0123456789");
    out->flush_soon();
    auto reads = peer_reads(1000);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].size(), 1000u);
}

TEST_F(loopback, nothing_leaves_without_a_flush) {
    out->append("held");
    ioc.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(out->buffered(), 4u);
    out->flush();
    auto reads = peer_reads(4);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0], "held");
    EXPECT_EQ(out->buffered(), 0u);
}

TEST_F(loopback, a_receive_flushes_what_was_appended_before_it_waits) {
    std::vector<char> scratch(64 * 1024);
    out->set_read_scratch(scratch);
    out->append("answer");
    out->async_receive([](error_code, std::span<char>) {});
    auto reads = peer_reads(6);  // no flush() called: the receive's cork did it
    std::string all;
    for (auto& r : reads) all += r;
    EXPECT_EQ(all, "answer");
}

TEST_F(loopback, on_written_says_true_once_the_bytes_reached_the_socket) {
    int called = 0;
    bool result = false;
    out->append("x", [&](bool w) { ++called; result = w; });
    EXPECT_EQ(called, 0);
    out->flush();
    peer_reads(1);
    EXPECT_EQ(called, 1);
    EXPECT_TRUE(result);
}

TEST_F(loopback, on_written_says_false_when_the_socket_fails_first) {
    peer.close();
    out->next_layer().close();
    int called = 0;
    bool result = true;
    out->append("lost", [&](bool w) { ++called; result = w; });
    out->flush();
    ioc.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(called, 1);
    EXPECT_FALSE(result);
}

TEST_F(loopback, drain_completes_after_the_pending_bytes_are_written) {
    out->append(std::string(100000, 'z'));
    bool drained = false;
    out->async_drain([&](error_code ec) {
        EXPECT_FALSE(ec);
        EXPECT_EQ(out->buffered(), 0u);
        drained = true;
    });
    auto reads = peer_reads(100000);
    EXPECT_TRUE(drained);
}

TEST_F(loopback, a_burst_arrives_in_one_receive_into_the_scratch) {
    std::vector<char> scratch(64 * 1024);
    out->set_read_scratch(scratch);
    std::string sent(40000, 'x');
    net::write(peer, net::buffer(sent));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // all of it in the kernel's buffer
    std::string got;
    int receives = 0;
    out->async_receive([&](error_code ec, std::span<char> bytes) {
        ASSERT_FALSE(ec);
        ++receives;
        EXPECT_EQ(bytes.data(), scratch.data());  // no buffer of its own
        got.assign(bytes.data(), bytes.size());
    });
    ioc.run_for(std::chrono::milliseconds(200));
    EXPECT_EQ(receives, 1);
    EXPECT_TRUE(got == sent) << got.size() << " bytes";
}

TEST_F(loopback, kept_bytes_come_before_the_socket_without_a_syscall) {
    std::vector<char> scratch(64 * 1024);
    out->set_read_scratch(scratch);
    out->keep_unread(std::string_view("early,"));
    net::write(peer, net::buffer(std::string_view("late")));
    std::string got;
    bool kept_again = false;
    std::function<void()> receive = [&] {
        out->async_receive([&](error_code ec, std::span<char> bytes) {
            ASSERT_FALSE(ec);
            got.append(bytes.data(), bytes.size());
            if (!kept_again) {
                kept_again = true;
                EXPECT_EQ(got, "early,");  // the kept bytes alone, then the socket
                // A part not read yet is kept again, from the very buffer handed out.
                out->keep_unread(bytes.subspan(5));
                got.pop_back();
            }
            if (got.size() < 10) receive();
        });
    };
    receive();
    ioc.run_for(std::chrono::milliseconds(200));
    EXPECT_EQ(got, "early,late");
}

TEST_F(loopback, the_peer_closing_ends_a_pending_receive_with_eof) {
    std::vector<char> scratch(64 * 1024);
    out->set_read_scratch(scratch);
    error_code got;
    out->async_receive([&](error_code ec, std::span<char>) { got = ec; });
    peer.close();
    ioc.run_for(std::chrono::milliseconds(200));
    EXPECT_EQ(got, net::error::eof);
}

TEST_F(loopback, without_a_scratch_a_receive_uses_a_buffer_of_its_own) {
    net::write(peer, net::buffer(std::string_view("tls-like")));
    std::string got;
    out->async_receive([&](error_code ec, std::span<char> bytes) {
        ASSERT_FALSE(ec);
        got.assign(bytes.data(), bytes.size());
    });
    ioc.run_for(std::chrono::milliseconds(200));
    EXPECT_EQ(got, "tls-like");
}

// A callback that sends (the control API's ?wait=written could) appends and starts a write
// while the layer is finishing the last one: that write's buffer must survive it.
TEST_F(loopback, a_written_callback_that_sends_again_is_safe) {
    std::string first(100000, 'a'), second(100000, 'b');
    bool second_written = false;
    out->append(first, [&](bool w) {
        ASSERT_TRUE(w);
        out->append(second, [&](bool w2) { second_written = w2; });
        out->flush();
    });
    out->flush();
    auto reads = peer_reads(200000);
    std::string all;
    for (auto& r : reads) all += r;
    EXPECT_EQ(all, first + second);
    EXPECT_TRUE(second_written);
}

TEST_F(loopback, an_empty_append_reports_when_what_came_before_is_written) {
    bool now = false;
    out->append({}, [&](bool w) { now = w; });
    EXPECT_TRUE(now);  // nothing pending: written already
    out->append("x");
    int called = 0;
    out->append({}, [&](bool w) { called += w ? 1 : 100; });
    EXPECT_EQ(called, 0);
    out->flush();
    peer_reads(1);
    EXPECT_EQ(called, 1);
}

// ---- shared payloads (fan-out): referenced while queued, gathered (plain) or flattened (TLS)

namespace {

std::shared_ptr<const std::string> shared_text(std::size_t n, char c) {
    return std::make_shared<const std::string>(n, c);
}

// What ends up on the wire, and what the layer holds, for a mix of copies and shared buffers.
template <class Layer>
void append_mix(Layer& out, const std::vector<std::shared_ptr<const std::string>>& shared, std::string& expect) {
    out.append("<h1>");
    expect += "<h1>";
    out.append_shared(shared[0]);
    expect += *shared[0];
    out.append_shared(shared[1]);  // two shared buffers in a row
    expect += *shared[1];
    out.append("<h2>");
    expect += "<h2>";
    out.append_shared(shared[2]);
    expect += *shared[2];
    out.append("<tail>");
    expect += "<tail>";
}

}  // namespace

TEST_F(loopback, shared_buffers_leave_in_place_among_copied_bytes_and_are_let_go) {
    std::vector<std::shared_ptr<const std::string>> shared{shared_text(3000, 'A'), shared_text(200, 'B'),
                                                           shared_text(70000, 'C')};
    std::string expect;
    append_mix(*out, shared, expect);
    EXPECT_EQ(out->buffered(), expect.size());  // shared bytes count against send_queue too
    for (auto& s : shared) EXPECT_EQ(s.use_count(), 2);  // referenced, not copied
    int written = 0;
    out->append({}, [&](bool w) { written += w; });
    out->flush();
    auto reads = peer_reads(expect.size());
    std::string all;
    for (auto& r : reads) all += r;
    EXPECT_EQ(all, expect);
    EXPECT_EQ(written, 1);
    EXPECT_EQ(out->buffered(), 0u);
    for (auto& s : shared) EXPECT_EQ(s.use_count(), 1);  // let go once written
}

// What is appended while a write is in flight goes in the next one, shared buffers included.
TEST_F(loopback, shared_buffers_behind_a_write_in_flight_keep_their_order) {
    std::string expect;
    auto first = shared_text(200000, 'x');
    out->append("[");
    out->append_shared(first);
    out->flush();
    expect += "[" + *first;
    std::vector<std::shared_ptr<const std::string>> next{shared_text(500, 'p'), shared_text(600, 'q'),
                                                         shared_text(700, 'r')};
    append_mix(*out, next, expect);
    out->flush();  // a write is in flight: these wait for it
    auto reads = peer_reads(expect.size());
    std::string all;
    for (auto& r : reads) all += r;
    EXPECT_EQ(all, expect);
    EXPECT_EQ(first.use_count(), 1);
}

// Over TLS (ws/tls_socket): a server engine after its handshake (tests/unit/support/tls_pair.h)
// on the accepted socket, a client engine reading what the peer socket receives.
struct tls_loopback : ::testing::Test {
    using tls_layer = wsgated::ws::coalescing_stream<wsgated::ws::tls_socket>;
    net::io_context ioc;
    tcp::socket peer{ioc};
    wsgated::test::tls_pair pair;
    std::shared_ptr<tls_layer> out;
    std::vector<char> scratch = std::vector<char>(256 * 1024);

    void SetUp() override {
        ASSERT_TRUE(pair.handshake());
        tcp::acceptor acc(ioc, {net::ip::make_address("127.0.0.1"), 0});
        peer.connect(acc.local_endpoint());
        out = std::make_shared<tls_layer>(wsgated::ws::tls_socket(acc.accept(ioc), std::move(pair.server)));
        out->set_owner(out);
        out->set_read_scratch(scratch);
    }

    // The ciphertext the peer receives within a short while, decrypted by the client.
    std::string peer_plaintext(std::size_t expect_bytes, wsgated::net::tls_engine::status* last = nullptr) {
        std::string got, buf(64 * 1024, '\0');
        peer.non_blocking(true);
        for (int turns = 0; turns < 200 && got.size() < expect_bytes; ++turns) {
            ioc.restart();
            ioc.run_for(std::chrono::milliseconds(5));
            error_code ec;
            std::size_t n = peer.read_some(net::buffer(buf), ec);
            if (ec == net::error::would_block) continue;
            if (ec) break;
            std::string plain(buf.size(), '\0');
            auto r = pair.client.read({buf.data(), n}, plain);
            got.append(plain.data(), r.produced);
            if (last) *last = r.st;
            if (r.st == wsgated::net::tls_engine::status::closed) break;
        }
        return got;
    }

    // Sends `plain` from the client as records, in one write.
    void peer_sends(std::string_view plain, bool then_close = false) {
        pair.client.write(plain);
        if (then_close) pair.client.close();
        peer.non_blocking(false);
        net::write(peer, net::buffer(pair.client.output()));
        pair.client.output().clear();
    }

    // What one receive hands out.
    std::pair<error_code, std::string> receive_one() {
        std::pair<error_code, std::string> got;
        bool done = false;
        out->async_receive([&](error_code ec, std::span<char> bytes) {
            got = {ec, std::string(bytes.data(), bytes.size())};
            done = true;
        });
        for (int i = 0; i < 100 && !done; ++i) {
            ioc.restart();
            ioc.run_for(std::chrono::milliseconds(10));
        }
        EXPECT_TRUE(done);
        return got;
    }
};

TEST_F(tls_loopback, copied_and_shared_bytes_are_encrypted_in_order_and_the_shared_let_go) {
    std::vector<std::shared_ptr<const std::string>> shared{shared_text(3000, 'A'), shared_text(1, 'B'),
                                                           shared_text(70000, 'C')};
    std::string expect;
    append_mix(*out, shared, expect);
    int written = 0;
    out->append({}, [&](bool w) { written += w; });
    EXPECT_EQ(out->buffered(), expect.size());
    out->flush();
    for (auto& s : shared) EXPECT_EQ(s.use_count(), 1);  // encrypted when the write starts
    EXPECT_GE(out->buffered(), expect.size()) << "the records in flight still count";
    EXPECT_EQ(peer_plaintext(expect.size()), expect);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    EXPECT_EQ(written, 1) << "on_written counts the plaintext appended, not the records";
    EXPECT_EQ(out->buffered(), 0u);
}

TEST_F(tls_loopback, a_batch_of_small_frames_is_one_record) {
    for (int i = 0; i < 50; ++i) out->append("0123456789");
    out->flush();
    peer.non_blocking(false);
    std::string buf(4096, '\0');
    ioc.run_for(std::chrono::milliseconds(20));
    std::size_t n = peer.read_some(net::buffer(buf));
    EXPECT_EQ(n, 500u + 22u) << "one TLS 1.3 record: 5 bytes of header, 1 of type, 16 of tag";
}

TEST_F(tls_loopback, a_receive_decrypts_through_the_scratch) {
    peer_sends("hello over tls");
    auto [ec, got] = receive_one();
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(got, "hello over tls");
}

TEST_F(tls_loopback, more_than_the_scratch_holds_comes_in_several_receives_without_a_loss) {
    scratch.resize(4096);  // 1.5 KiB of ciphertext, 2.5 KiB of plaintext a receive
    out->set_read_scratch(scratch);
    auto sent = wsgated::test::tls_pair::pattern(200 * 1024);
    peer_sends(sent);
    std::string got;
    for (int i = 0; i < 1000 && got.size() < sent.size(); ++i) {
        auto [ec, bytes] = receive_one();
        ASSERT_FALSE(ec) << ec.message();
        got += bytes;
    }
    EXPECT_EQ(got, sent);
}

TEST_F(tls_loopback, data_then_close_notify_is_the_data_then_eof) {
    peer_sends("last words", true);
    auto [ec1, got] = receive_one();
    EXPECT_FALSE(ec1);
    EXPECT_EQ(got, "last words");
    auto [ec2, none] = receive_one();
    EXPECT_EQ(ec2, net::error::eof);
    EXPECT_TRUE(none.empty());
}

TEST_F(tls_loopback, our_close_notify_reaches_the_peer_behind_what_was_appended) {
    out->append("goodbye");
    out->close_notify();
    bool drained = false;
    out->async_drain([&](error_code ec) { drained = !ec; });
    wsgated::net::tls_engine::status last{};
    EXPECT_EQ(peer_plaintext(100, &last), "goodbye");
    EXPECT_EQ(last, wsgated::net::tls_engine::status::closed);
    EXPECT_TRUE(drained);
}

TEST_F(tls_loopback, garbage_after_the_handshake_fails_the_receive_and_is_answered_with_an_alert) {
    peer.non_blocking(false);
    net::write(peer, net::buffer(std::string("\x17\x03\x03\x00\x20") + std::string(32, 'x')));
    auto [ec, got] = receive_one();
    EXPECT_EQ(ec, boost::system::errc::make_error_code(boost::system::errc::protocol_error));
    EXPECT_TRUE(got.empty());
    char alert[64];
    peer.non_blocking(false);
    EXPECT_GT(peer.read_some(net::buffer(alert)), 0u) << "bad_record_mac, not silence";
}

// append_through (a large reply that is a view of the receive) on the bare socket a plain
// session runs on.
struct through_loopback : ::testing::Test {
    using bare_layer = wsgated::ws::coalescing_stream<wsgated::ws::plain_socket>;
    net::io_context ioc;
    tcp::socket peer{ioc};
    std::shared_ptr<bare_layer> out;
    std::vector<char> scratch = std::vector<char>(64 * 1024);

    void SetUp() override {
        tcp::acceptor acc(ioc, {net::ip::make_address("127.0.0.1"), 0});
        peer.connect(acc.local_endpoint());
        out = std::make_shared<bare_layer>(acc.accept(ioc));
        out->set_owner(out);
        out->set_read_scratch(scratch);  // makes the socket non-blocking, as a session does
    }

    std::string peer_reads(std::size_t n) {
        std::string got(n, '\0');
        std::size_t at = 0;
        peer.non_blocking(true);
        for (int i = 0; i < 2000 && at < n; ++i) {
            ioc.restart();
            ioc.run_for(std::chrono::milliseconds(2));
            error_code ec;
            at += peer.read_some(net::buffer(got.data() + at, n - at), ec);
        }
        got.resize(at);
        return got;
    }
};

TEST_F(through_loopback, a_large_frame_is_written_at_once_with_what_was_pending_and_not_kept) {
    out->append("small reply;");
    std::string payload = shared_text(64 * 1024, 'P')->substr();
    bool written = false;
    out->append_through("HDR", payload, [&](bool w) { written = w; });
    EXPECT_EQ(out->buffered(), 0u) << "taken by the socket during the call: nothing copied";
    EXPECT_TRUE(written);
    EXPECT_EQ(peer_reads(12 + 3 + payload.size()), "small reply;HDR" + payload);
}

TEST_F(through_loopback, what_the_socket_does_not_take_is_copied_before_the_call_returns) {
    std::string payload(8 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 23);
    std::string expect = "HDR" + payload;
    int written = 0;
    out->append_through("HDR", payload, [&](bool w) { written += w; });
    EXPECT_GT(out->buffered(), 0u) << "8 MiB do not fit the socket's buffers";
    EXPECT_LT(out->buffered(), payload.size() + 3) << "but some went at once";
    std::fill(payload.begin(), payload.end(), 'X');  // the scratch is used again
    out->flush();
    EXPECT_EQ(peer_reads(expect.size()), expect);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    EXPECT_EQ(written, 1);
    EXPECT_EQ(out->buffered(), 0u);
}

TEST_F(through_loopback, behind_a_write_in_flight_it_is_copied_and_keeps_its_order) {
    std::string big(4 * 1024 * 1024, 'B');
    out->append(big);
    out->flush();  // in flight (4 MiB do not go in one turn)
    std::string payload(32 * 1024, 'T');
    out->append_through("HDR", payload);
    std::fill(payload.begin(), payload.end(), 'X');
    EXPECT_EQ(peer_reads(big.size() + 3 + 32 * 1024), big + "HDR" + std::string(32 * 1024, 'T'));
}

TEST_F(through_loopback, earlier_written_callbacks_hear_true_when_their_bytes_go_with_it) {
    int first = 0;
    out->append("first", [&](bool w) { first += w; });
    out->append_through("HDR", std::string(20000, 'p'));
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    EXPECT_EQ(first, 1);
    EXPECT_EQ(peer_reads(5 + 3 + 20000).size(), 20008u);
}

// An idle connection holds no buffer (issue 17): what the socket took at once was never copied,
// and a quiet connection gives back what a burst grew.
TEST_F(through_loopback, a_reply_the_socket_takes_at_once_leaves_no_buffer_behind) {
    out->append_through("HTTP/1.1 101 Switching Protocols\r\n\r\n", {});
    out->flush();
    EXPECT_EQ(out->held(), 0u);
    EXPECT_EQ(peer_reads(38), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
}

TEST_F(through_loopback, a_quiet_connection_gives_its_buffers_back_a_busy_one_does_not) {
    std::string burst(4 * 1024 * 1024, 'b');
    out->append(burst);
    out->flush();  // in flight
    out->append("behind it");
    out->keep_unread(std::string_view("unread"));
    out->release_buffers();
    EXPECT_GT(out->held(), burst.size()) << "a write in flight and pending bytes keep theirs";
    EXPECT_EQ(peer_reads(burst.size() + 9).size(), burst.size() + 9);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    out->release_buffers();
    EXPECT_GT(out->held(), 0u) << "bytes not read yet are kept";
    bool got = false;
    out->async_receive([&](error_code ec, std::span<char> b) { got = !ec && std::string_view(b.data(), b.size()) == "unread"; });
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(got);
    out->release_buffers();
    EXPECT_EQ(out->held(), 0u);
}
