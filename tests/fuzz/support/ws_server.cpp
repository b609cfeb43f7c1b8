// ws_server: see ws_server.h.
#include "support/ws_server.h"

#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "core/upgrade_request.h"
#include "loader/loader.h"
#include "protocol/utf8.h"
#include "support/fail.h"
#include "ws/stream_options.h"

namespace wsgated::fuzz {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;

// Runs what is ready until `done`. The test stream completes every operation at once (its input
// ends with EOF), so an empty run queue before `done` is a harness error, not a hang to wait on:
// a pending handshake or close timer must not make us sleep.
void run_until(boost::asio::io_context& ioc, const bool& done) {
    ioc.restart();
    while (!done && ioc.poll() > 0) {
    }
    if (!done) FUZZ_FAIL();
}

core::upgrade_request upgrade(const std::string& extensions) {
    core::upgrade_request req{http::verb::get, "/chat", 11};
    req.set(http::field::host, "gw.example");
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(http::field::sec_websocket_version, "13");
    if (!extensions.empty()) req.set(http::field::sec_websocket_extensions, extensions);
    return req;
}

}  // namespace

const config::gateway_config& default_config() {
    static const config::config_ptr cfg = [] {
        auto r = config::load_string("routes: [{path: /chat, backend: echo}]\n", "<fuzz>");
        if (!r.config) FUZZ_FAIL();
        return r.config;
    }();
    return *cfg;
}

ws_outcome serve(const ws_setup& setup, std::string_view client_bytes) {
    ws_outcome out;
    boost::asio::io_context ioc;
    beast::test::stream remote(ioc);  // the client's end: collects what the server writes
    websocket::stream<beast::test::stream> ws(ioc);
    ws.next_layer().connect(remote);
    ws::apply_stream_options(ws, setup.limits, setup.compression, "", false);

    bool done = false;
    error_code ec;
    ws.async_accept(upgrade(setup.extensions), [&](error_code e) {
        ec = e;
        done = true;
    });
    run_until(ioc, done);
    out.response = std::string(remote.str());
    remote.clear();
    if (ec) {
        out.ec = ec;
        return out;
    }

    if (setup.read_size) ws.next_layer().read_size(setup.read_size);
    ws.next_layer().append(client_bytes);
    ws.next_layer().close_remote();  // after the bytes: EOF
    beast::flat_buffer buffer;
    for (;;) {
        done = false;
        ws.async_read(buffer, [&](error_code e, std::size_t) {
            ec = e;
            done = true;
        });
        run_until(ioc, done);
        if (ec) break;
        auto data = buffer.cdata();
        std::string_view payload(static_cast<const char*>(data.data()), data.size());
        // What ws/session does after Beast (deliver()): a text message whose last code point is
        // cut, which Beast lets through after an empty final frame, fails the connection 1007.
        if (!ws.got_binary() && protocol::ends_mid_sequence(payload)) {
            done = false;
            ws.async_close(websocket::close_reason(1007), [&](error_code) { done = true; });
            run_until(ioc, done);
            ec = websocket::error::bad_frame_payload;
            break;
        }
        out.messages.push_back({ws.got_binary(), std::string(payload)});
        buffer.consume(buffer.size());
    }
    out.ec = ec;
    out.held = buffer.size();
    out.written = std::string(remote.str());
    return out;
}

std::string client_frame(unsigned char first, std::string_view payload, std::uint32_t key) {
    std::string f(1, static_cast<char>(first));
    std::uint64_t n = payload.size();
    if (n < 126) {
        f.push_back(static_cast<char>(0x80 | n));
    } else if (n < 65536) {
        f.push_back(static_cast<char>(0x80 | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n));
    } else {
        f.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>(n >> (8 * i)));
    }
    unsigned char k[4] = {static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
                          static_cast<unsigned char>(key >> 8), static_cast<unsigned char>(key)};
    f.append(reinterpret_cast<const char*>(k), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ k[i % 4]));
    return f;
}

bool next_server_frame(std::string_view& in, unsigned char& first, std::string& payload) {
    if (in.size() < 2 || (in[1] & 0x80)) return false;
    std::size_t at = 2;
    std::uint64_t n = static_cast<unsigned char>(in[1]) & 0x7f;
    std::size_t ext = n == 126 ? 2 : n == 127 ? 8 : 0;
    if (in.size() < at + ext) return false;
    if (ext) {
        n = 0;
        for (std::size_t i = 0; i < ext; ++i) n = (n << 8) | static_cast<unsigned char>(in[at + i]);
        at += ext;
    }
    if (in.size() - at < n) return false;
    first = static_cast<unsigned char>(in[0]);
    payload.assign(in.substr(at, n));
    in.remove_prefix(at + n);
    return true;
}

}  // namespace wsgated::fuzz
