// session_close: how a session ends (RFC 6455 §7), a part of the session (ws/session_type.h)
// kept apart from its message path in ws/session.cpp.
//
//   - we close (a backend, the control API, a limit, a drain): our close frame goes out, reading
//     goes on until the client's close frame answers it, then the teardown;
//   - the client closes: its code is echoed (never one it may not send: ws/frame_reader fails
//     those 1002 first), then the teardown;
//   - the client breaks the protocol: our close frame with 1002, 1007 or 1009, then the teardown
//     at once, without waiting for an answer (counted in wsgate_client_errors_total).
// The teardown writes what is queued, then ends TCP from our side first (§7.1.1): a shutdown of
// the sending half and reading until the client's EOF, or TLS's close_notify. All of it within
// handshake_timeout of the first close frame; past that the TCP connection is dropped.
#include <spdlog/spdlog.h>

#include "protocol/close_codes.h"
#include "ws/session_type.h"

namespace wsgated::ws::session_detail {
namespace {

std::string_view client_error_label(std::uint16_t code) {
    return code == 1007 ? "invalid_data" : code == 1009 ? "too_big" : "protocol";
}

std::string_view reason_text(std::uint16_t code) {
    if (code == protocol::close_bad_data.code) return protocol::close_bad_data.reason;
    if (code == protocol::close_too_big.code) return protocol::close_too_big.reason;
    return protocol::close_protocol_error.reason;
}

}  // namespace

template <class Stream>
void session<Stream>::close(std::uint16_t code, std::string_view reason) {
    if (phase_.is(phase::closing) || phase_.is(phase::finished)) return;
    bool was_open = phase_.is(phase::open);
    to(phase::closing);
    arm_close_deadline();
    out_.send_control(close_frame(code, reason).view());
    if (!reading_ && was_open) do_read();  // the client's close frame arrives through a read
}

template <class Stream>
void session<Stream>::on_client_close(std::uint16_t code, std::string_view reason) {
    end_code_ = code;
    if (!reason.empty()) end_reason_ = std::make_unique<std::string>(reason);
    if (!phase_.is(phase::closing)) {  // the client began: echo its code (1000 if it gave none)
        to(phase::closing);
        out_.send_control(close_frame(code == 1005 ? 1000 : code, {}).view());
    }
    teardown();
}

template <class Stream>
void session<Stream>::on_client_error(std::uint16_t code, std::string_view why) {
    spdlog::debug("connection {}: {}, closed {}", id(), why, code);
    sv_.state.metrics.client_errors.with({client_error_label(code)}).inc();
    end_code_ = code;
    if (!phase_.is(phase::closing)) {
        to(phase::closing);
        out_.send_control(close_frame(code, reason_text(code)).view());
    }  // else our close frame is out already: one only
    teardown();
}

template <class Stream>
void session<Stream>::teardown() {
    tearing_down_ = true;
    arm_close_deadline();
    // TLS: our close_notify right behind the close frame, in the same write.
    if constexpr (std::is_same_v<Stream, tls_socket>) io_.close_notify();
    io_.async_drain([self = this->shared_from_this()](error_code) { self->after_drain(); });
}

// FIN from our side, then read (and drop) until the client's FIN, so that bytes it still sends
// do not make our kernel answer with a reset that could destroy our close frame before the
// client read it. TLS: our close_notify went first (teardown), and the client's close_notify
// ends the reading as its FIN does.
template <class Stream>
void session<Stream>::after_drain() {
    if (phase_.is(phase::finished)) return;
    error_code ignored;
    socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
    if (!reading_) do_read();  // ends with EOF: finish()
}

// A close frame queued behind a write a slow consumer never reads, a client that never
// answers ours or never closes TCP: past the deadline, drop TCP.
template <class Stream>
void session<Stream>::arm_close_deadline() {
    if (deadline_armed_) return;
    deadline_armed_ = true;
    timer_.expires_after(config().server.limits.handshake_timeout);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (ec || self->phase_.is(phase::finished)) return;
        spdlog::debug("connection {}: close handshake not done in time, dropped", self->id());
        self->drop_tcp();
        self->finish(boost::asio::error::timed_out);  // a receive in flight would say so too
    });
}

template <class Stream>
void session<Stream>::drop_tcp() {  // at once, no close handshake
    error_code ignored;
    socket().close(ignored);
}

template <class Stream>
void session<Stream>::finish(error_code ec) {
    auto keep = std::move(paused_self_);  // released when this returns
    if (phase_.is(phase::finished)) return;
    to(phase::finished);
    std::uint16_t code = end_code_ ? end_code_ : 1006;
    spdlog::debug("connection {} closed code={}{}", id(), code,
                  ec && ec != boost::asio::error::eof ? " (" + ec.message() + ")" : std::string());
    leave_hub();
    // No channel while moving between backend definitions: the old one said goodbye already,
    // and a message held for the new one goes nowhere (counted).
    if (held_) sv_.state.metrics.messages_dropped.with({"connection_closed"}).inc();
    if (channel_) channel_->on_close(code, end_reason_ ? std::string_view(*end_reason_) : std::string_view());
    if (open_gauge_) open_gauge_->dec();
    timer_.cancel();
    drop_tcp();  // whatever is still queued can no longer be delivered
    worker_.detach(this);
}

// session_type.h declares the class extern: its members defined here are instantiated here.
#define WSGATED_SESSION_CLOSE(S)                                                     \
    template void session<S>::close(std::uint16_t, std::string_view);                \
    template void session<S>::on_client_close(std::uint16_t, std::string_view);      \
    template void session<S>::on_client_error(std::uint16_t, std::string_view);      \
    template void session<S>::teardown();                                            \
    template void session<S>::after_drain();                                         \
    template void session<S>::arm_close_deadline();                                  \
    template void session<S>::drop_tcp();                                            \
    template void session<S>::finish(error_code);
WSGATED_SESSION_CLOSE(plain_socket)
WSGATED_SESSION_CLOSE(tls_socket)
#undef WSGATED_SESSION_CLOSE

}  // namespace wsgated::ws::session_detail
