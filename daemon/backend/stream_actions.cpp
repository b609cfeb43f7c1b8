// stream_actions: see stream_actions.h.
#include "backend/stream_actions.h"

#include <memory>
#include <string>

#include "hub/delivery.h"

namespace wsgated::backend {
namespace {

action_error error_of(hub::outcome o) {
    switch (o) {
    case hub::outcome::ok: return action_error::none;
    case hub::outcome::not_found: return action_error::not_found;
    case hub::outcome::gone: return action_error::gone;
    case hub::outcome::unavailable: return action_error::unavailable;
    }
    return action_error::not_found;
}

core::message shared_message(const action& a) {
    return core::message{std::make_shared<const std::string>(a.payload), a.binary, nullptr};
}

hub::outcome_fn outcome_answer(action_answer answer) {
    return [answer = std::move(answer)](hub::outcome o) { answer({error_of(o), std::nullopt}); };
}

hub::count_fn count_answer(action_answer answer) {
    return [answer = std::move(answer)](hub::outcome o, std::uint64_t n) { answer({error_of(o), n}); };
}

std::optional<action_result> send(const action& a, const action_place& p) {
    core::connection* c = p.delivery.local_connection(p.worker, a.conn);
    if (c && !a.wait_written) {
        c->send_copy(a.payload, a.binary);  // the hot path: straight from the read buffer
        return action_result{};
    }
    auto answer = p.later();
    if (!c) {
        p.delivery.send(std::string(a.conn), shared_message(a), a.wait_written, p.executor, outcome_answer(std::move(answer)));
        return std::nullopt;
    }
    auto m = shared_message(a);
    m.on_written = [answer = std::move(answer)](bool written) {
        answer({written ? action_error::none : action_error::gone, std::nullopt});
    };
    c->send(std::move(m));
    return std::nullopt;
}

std::optional<action_result> join(const action& a, const action_place& p, bool in) {
    std::string room(a.room);
    if (core::connection* c = p.delivery.local_connection(p.worker, a.conn)) {
        if (in) p.delivery.join(*c, p.worker, room);
        else p.delivery.leave(*c, p.worker, room);
        return action_result{};
    }
    auto answer = p.later();
    p.delivery.join(room, std::string(a.conn), in, p.executor, [answer = std::move(answer)](hub::outcome o, bool) {
        answer({error_of(o), std::nullopt});
    });
    return std::nullopt;
}

std::optional<action_result> close(const action& a, const action_place& p) {
    if (core::connection* c = p.delivery.local_connection(p.worker, a.conn)) {
        c->close(a.code, a.reason);
        return action_result{};
    }
    p.delivery.close(std::string(a.conn), a.code, std::string(a.reason), p.executor, outcome_answer(p.later()));
    return std::nullopt;
}

}  // namespace

std::optional<action_result> apply_action(const action& a, const action_place& p) {
    switch (a.kind) {
    case action_kind::send: return send(a, p);
    case action_kind::join: return join(a, p, true);
    case action_kind::leave: return join(a, p, false);
    case action_kind::close: return close(a, p);
    case action_kind::publish:
        p.delivery.publish(std::string(a.room), shared_message(a), std::string(a.exclude), p.executor,
                           count_answer(p.later()));
        return std::nullopt;
    case action_kind::send_user:
        p.delivery.send_to_user(std::string(a.user), shared_message(a), p.executor, count_answer(p.later()));
        return std::nullopt;
    case action_kind::broadcast:
        p.delivery.broadcast(shared_message(a), p.executor, count_answer(p.later()));
        return std::nullopt;
    }
    return action_result{action_error::unknown_action, std::nullopt};
}

}  // namespace wsgated::backend
