// http_backend: see http_backend.h. One http_channel per client connection:
//
//   session → on_message → backlog_ → dispatch (one POST in flight) → pool → on_answer
//          ← send(reply), join/leave, close  ←────────────────────────────┘
//
// The channel outlives its session when events are still queued (the disconnect is sent after
// the client left), so it holds the connection weakly and its pool strongly.
#include "backend/http_backend.h"

#include <algorithm>
#include <array>
#include <deque>

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <spdlog/spdlog.h>

#include "backend/backend_errc.h"
#include "hub/delivery.h"
#include "text/http_text.h"
#include "text/split.h"
#include "protocol/names.h"
#include "protocol/utf8.h"

namespace wsgated::backend {

using http_client::connection_budget;
using http_client::http_pool;
using http_client::http_pool_options;
using http_client::http_request;
using http_client::http_response;
using http_client::http_failure;
using http_client::http_result;
namespace http = boost::beast::http;

struct http_backend::shared {
    std::string name;
    std::string target;
    hub::delivery* delivery = nullptr;  // WSGate-Join / -Leave
    std::array<metrics::counter*, all_backend_errcs.size()> outcomes{};
    metrics::histogram* duration = nullptr;
    metrics::counter* backlog_pauses = nullptr;
    metrics::counter* dropped = nullptr;  // messages_dropped{reason="backend_error"}
};

namespace {

enum class event_kind { connect, message, disconnect };

struct event {
    event_kind kind;
    std::string body;  // moved into the request when dispatched
    std::size_t size;  // body size, for the backlog's byte bound
    bool binary = false;
};

std::string_view kind_name(event_kind k) {
    switch (k) {
    case event_kind::connect: return "connect";
    case event_kind::message: return "message";
    case event_kind::disconnect: return "disconnect";
    }
    return "message";
}

std::string json_text(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

std::string params_json(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out = "{";
    for (const auto& [k, v] : params) {
        if (out.size() > 1) out += ',';
        out += json_text(k) + ':' + json_text(v);
    }
    return out + '}';
}

std::string connect_body(const connection_info& i) {
    std::string headers = "{";
    for (const auto& [k, v] : i.headers) {
        if (headers.size() > 1) headers += ',';
        headers += json_text(k) + ':' + json_text(v);
    }
    headers += '}';
    return "{\"remote_address\":" + json_text(i.remote_address) + ",\"headers\":" + headers +
           ",\"user\":" + (i.user.empty() ? std::string("null") : json_text(i.user)) +
           ",\"claims\":" + i.claims_json + '}';
}

// "4000 reason" → a close the gateway may send: 1000, or an application code 3000–4999.
std::optional<protocol::close_reason> parse_close_header(std::string_view v, std::string& reason_store) {
    v = text::trim(v);
    auto sp = v.find(' ');
    std::string_view digits = v.substr(0, sp);
    unsigned code = 0;
    if (digits.empty() || digits.size() > 4) return std::nullopt;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        code = code * 10 + static_cast<unsigned>(c - '0');
    }
    if (!protocol::valid_app_close_code(code)) return std::nullopt;
    reason_store = sp == std::string_view::npos ? "" : std::string(text::trim(v.substr(sp + 1)));
    if (!protocol::valid_close_reason(reason_store)) reason_store.clear();
    return protocol::close_reason{static_cast<std::uint16_t>(code), reason_store};
}

class http_channel final : public channel, public std::enable_shared_from_this<http_channel> {
public:
    http_channel(std::shared_ptr<const http_backend::shared> s, std::shared_ptr<http_pool> pool,
                 const std::shared_ptr<connection>& c, const channel_place& where)
        : s_(std::move(s)), pool_(std::move(pool)), conn_(c), worker_(where.worker),
          events_(where.events) {
        auto info = c->info();
        id_ = info.id;
        route_ = info.route;
        user_ = info.user;
        params_json_ = params_json(info.params);
    }

    // After construction: a request's callback holds shared_from_this().
    void start(const std::shared_ptr<connection>& c) {
        if (events_ & config::ev_connect) push({event_kind::connect, connect_body(c->info()), 0});
    }

    bool on_message(std::string_view payload, bool binary) override;
    void on_close(std::uint16_t code, std::string_view reason) override;
    void on_moved(std::function<void()> drained) override;

private:
    void push(event e);
    void push_disconnect(std::uint16_t code, std::string_view reason);
    void check_drained();
    void dispatch();
    http_request make_request(event& e) const;
    void on_answer(event_kind kind, http_result&& r);
    backend_errc act_on(http_response& res);
    void join_leave(const http_response& res, connection& c);
    void fail(backend_errc e, unsigned status);
    bool backlog_full() const { return backlog_.size() >= backlog_messages || bytes_ >= backlog_bytes; }

    std::shared_ptr<const http_backend::shared> s_;
    std::shared_ptr<http_pool> pool_;
    std::weak_ptr<connection> conn_;
    unsigned worker_;
    unsigned events_;
    std::string id_, route_, user_, params_json_;
    std::deque<event> backlog_;  // front = in flight when in_flight_
    std::size_t bytes_ = 0;
    bool in_flight_ = false;
    bool paused_ = false;           // told the session to stop reading
    bool closed_ = false;           // the session ended (on_close)
    bool moved_ = false;            // the session went on with another backend (on_moved)
    std::function<void()> drained_;  // on_moved's, until every message was answered
    bool failed_ = false;           // a request failed: the client is being closed
    bool connect_reached_ = false;  // the backend may have seen the connect event
};

bool http_channel::on_message(std::string_view payload, bool binary) {
    if (failed_ || closed_) {  // the close is under way: the client's late messages go nowhere
        s_->dropped->inc();
        return true;
    }
    if (!(events_ & config::ev_message)) return true;
    push({event_kind::message, std::string(payload), payload.size(), binary});
    if (!backlog_full()) return true;
    paused_ = true;  // TCP backpressure: the client's socket is not read until we catch up
    s_->backlog_pauses->inc();
    return false;
}

void http_channel::on_close(std::uint16_t code, std::string_view reason) {
    closed_ = true;
    push_disconnect(code, reason);
}

// Unlike a close, the answers to what is still queued or in flight reach the connection.
void http_channel::on_moved(std::function<void()> drained) {
    moved_ = true;
    drained_ = std::move(drained);
    push_disconnect(moved_code, moved_reason);
    check_drained();
}

// Once no message event is queued or in flight: every one sent here was answered.
void http_channel::check_drained() {
    if (!drained_) return;
    bool any = std::any_of(backlog_.begin(), backlog_.end(), [](const event& ev) { return ev.kind == event_kind::message; });
    if (!any) std::exchange(drained_, nullptr)();
}

void http_channel::push_disconnect(std::uint16_t code, std::string_view reason) {
    if (!(events_ & config::ev_disconnect)) return;
    std::string body = "{\"code\":" + std::to_string(code) + ",\"reason\":" + json_text(reason) + "}";
    push({event_kind::disconnect, std::move(body), 0});
}

void http_channel::push(event e) {
    e.size = e.body.size();
    bytes_ += e.size;
    backlog_.push_back(std::move(e));
    dispatch();
}

void http_channel::dispatch() {
    while (!in_flight_ && !backlog_.empty()) {
        auto& e = backlog_.front();
        // A disconnect only follows a connect the backend may have seen (SPEC §4: exactly once
        // for every connection whose connect was sent).
        if (e.kind == event_kind::disconnect && (events_ & config::ev_connect) && !connect_reached_) {
            backlog_.pop_front();
            continue;
        }
        in_flight_ = true;
        pool_->submit(make_request(e), [self = shared_from_this(), kind = e.kind](http_result&& r) {
            self->on_answer(kind, std::move(r));
        });
    }
}

http_request http_channel::make_request(event& e) const {
    http_request req{http::verb::post, s_->target, 11};
    req.set("WSGate-Event", kind_name(e.kind));
    req.set("WSGate-Connection-Id", id_);
    req.set("WSGate-Route", route_);
    if (!user_.empty()) req.set("WSGate-User", user_);
    req.set("WSGate-Params", params_json_);
    std::string_view type = "application/json";
    if (e.kind == event_kind::message)
        type = e.binary ? "application/octet-stream" : "text/plain; charset=utf-8";
    req.set(http::field::content_type, type);
    req.body() = std::move(e.body);
    return req;
}

void http_channel::on_answer(event_kind kind, http_result&& r) {
    in_flight_ = false;
    bytes_ -= backlog_.front().size;
    backlog_.pop_front();
    backend_errc e = classify(r);
    if (kind == event_kind::connect)
        connect_reached_ = e != backend_errc::unreachable && e != backend_errc::overloaded;
    unsigned status = r.failure == http_failure::none ? r.response.result_int() : 0;
    if (e == backend_errc::ok) e = act_on(r.response);  // an answer we cannot act on: malformed
    s_->outcomes[static_cast<std::size_t>(e)]->inc();
    s_->duration->observe(std::chrono::duration<double>(r.elapsed).count());
    if (e != backend_errc::ok && kind != event_kind::disconnect) fail(e, status);
    dispatch();
    check_drained();
    if (paused_ && !backlog_full() && !closed_ && !moved_) {
        paused_ = false;
        if (auto c = conn_.lock()) c->resume_reading();
    }
}

// SPEC §4: joins, leaves, the reply, then the close — so a client that got the reply is
// already in its new rooms.
backend_errc http_channel::act_on(http_response& res) {
    auto c = conn_.lock();
    if (!c || closed_ || failed_) return backend_errc::ok;
    join_leave(res, *c);
    auto close_value = res["WSGate-Close"];
    std::string& body = res.body();
    if (res.result() != http::status::no_content && !body.empty()) {
        bool text = text::is_text_type(res[http::field::content_type]);
        if (text && !protocol::valid_utf8(body)) {
            spdlog::warn("backend {}: text reply to {} is not valid UTF-8; closing 1011", s_->name, id_);
            return backend_errc::malformed;
        }
        c->send(message{std::make_shared<const std::string>(std::move(body)), !text, nullptr});
    }
    if (close_value.empty()) return backend_errc::ok;
    std::string reason;
    if (auto cr = parse_close_header(close_value, reason)) {
        c->close(cr->code, cr->reason);
        return backend_errc::ok;
    }
    spdlog::warn("backend {}: WSGate-Close '{}' is not 'CODE [reason]' with CODE 1000 or "
                 "3000-4999; closing {} 1011", s_->name, std::string(close_value), id_);
    return backend_errc::malformed;
}

void http_channel::join_leave(const http_response& res, connection& c) {
    auto& d = *s_->delivery;  // on the connection's own worker: applied before the reply
    text::for_each_field(res["WSGate-Join"], ',', [&](std::string_view room) {
        if (room = text::trim(room); !room.empty()) d.join(c, worker_, std::string(room));
    });
    text::for_each_field(res["WSGate-Leave"], ',', [&](std::string_view room) {
        if (room = text::trim(room); !room.empty()) d.leave(c, worker_, std::string(room));
    });
}

// The client is closed (1011/1013); its messages not yet delivered are dropped and counted.
// A queued disconnect stays: the backend still hears that the connection ended.
void http_channel::fail(backend_errc e, unsigned status) {
    if (failed_) return;
    failed_ = true;
    // Called from on_answer, so nothing is in flight: every queued message may go.
    std::size_t dropped = std::erase_if(backlog_, [&](const event& ev) {
        if (ev.kind != event_kind::message) return false;
        bytes_ -= ev.size;
        return true;
    });
    if (dropped) s_->dropped->inc(dropped);
    auto close = close_for(e, status);
    spdlog::debug("connection {}: backend {} request failed ({}{}), closing {}", id_, s_->name,
                  outcome_label(e), status ? " " + std::to_string(status) : "", close.code);
    if (auto c = conn_.lock(); c && !closed_ && !moved_) c->close(close.code, close.reason);
    check_drained();
}

}  // namespace

http_backend::http_backend(const config::backend_config& cfg, const config::gateway_config& gw,
                           core::process_state& state, hub::delivery& delivery) {
    auto s = std::make_shared<shared>();
    s->name = cfg.name;
    s->target = cfg.endpoint.target;
    s->delivery = &delivery;
    auto& m = state.metrics;
    for (auto e : all_backend_errcs)
        s->outcomes[static_cast<std::size_t>(e)] = &m.backend_requests.with({cfg.name, outcome_label(e)});
    s->duration = &m.backend_request_duration.with({cfg.name});
    s->backlog_pauses = &m.backend_backlog_pauses.with({cfg.name});
    s->dropped = &m.messages_dropped.with({"backend_error"});
    shared_ = std::move(s);

    http_pool_options o;
    o.endpoint = cfg.endpoint;
    o.timeout = cfg.timeout;
    // The largest reply a client could take: one message of max_message_size always gets
    // through (ws/outbound), more than the send queue would close it as a slow consumer.
    const auto& lim = gw.server.limits;
    o.body_limit = std::max<std::uint64_t>({lim.send_queue, lim.max_message_size, 64 * 1024});
    o.in_flight = &state.backend_in_flight;
    auto budget = std::make_shared<connection_budget>(cfg.max_connections);
    pools_ = std::make_unique<core::per_worker<http_pool>>(state, [&](unsigned, auto& ioc) {
        auto pool = std::make_shared<http_pool>(ioc, o, budget);
        budget->add_pool(ioc, pool);
        return pool;
    });
}

std::shared_ptr<channel> http_backend::open(const std::shared_ptr<connection>& c,
                                            const channel_place& where) {
    auto ch = std::make_shared<http_channel>(shared_, pools_->on(where.worker), c, where);
    ch->start(c);
    return ch;
}

}  // namespace wsgated::backend
