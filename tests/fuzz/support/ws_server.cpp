// ws_server: see ws_server.h.
#include "support/ws_server.h"

#include <algorithm>
#include <memory>
#include <span>

#include "loader/loader.h"
#include "support/fail.h"
#include "ws/accept_response.h"
#include "ws/deflate_negotiation.h"
#include "ws/frame_reader.h"
#include "ws/inflater.h"
#include "ws/server_frame.h"

namespace wsgated::fuzz {

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
    std::unique_ptr<ws::inflater> inflate;
    std::string extensions;
    if (setup.compression.enabled && !setup.extensions.empty()) {
        auto answer = ws::negotiate_deflate(setup.extensions, setup.compression);
        if (answer.params.enabled) {
            const auto& p = answer.params;
            inflate = std::make_unique<ws::inflater>(std::max(9, p.client_max_window_bits), p.client_no_context_takeover);
            extensions = answer.extension;
        }
    }
    out.response = ws::accept_response("dGhlIHNhbXBsZSBub25jZQ==", "", extensions);
    ws::frame_reader reader(setup.limits.max_message_size, inflate.get());
    std::size_t step = setup.read_size ? setup.read_size : std::max<std::size_t>(client_bytes.size(), 1);
    for (std::size_t at = 0; at < client_bytes.size(); at += step) {
        auto part = client_bytes.substr(at, step);
        std::vector<char> receive(part.begin(), part.end());  // fresh memory, as a new receive
        std::span<char> in(receive);
        for (;;) {
            auto ev = reader.next(in);
            using kind = ws::frame_reader::kind;
            if (ev.what == kind::need_more) break;
            if (ev.what == kind::message) out.messages.push_back({ev.binary, std::string(ev.payload)});
            if (ev.what == kind::ping) out.written += ws::pong_frame(ev.payload).view();
            if (ev.what != kind::close && ev.what != kind::fail) continue;
            out.how = ev.what == kind::close ? ws_end::closed : ws_end::failed;
            out.code = ev.code;
            // The echo (1000 for a close without a code, as ws/session answers), or ours.
            out.written += ws::close_frame(ev.code == 1005 ? 1000 : ev.code, {}).view();
            out.held = reader.held();
            return out;
        }
    }
    out.held = reader.held();
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
