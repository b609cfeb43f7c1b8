// jwt_hook: see jwt_hook.h.
#include "auth/jwt_hook.h"

#include "auth/jwt_verifier.h"
#include "auth/token_source.h"

namespace wsgated::auth {

void jwt_hook::check(const auth_input& in, auth_callback cb) {
    auth_outcome o;  // defaults: 401 "unauthorized", result denied
    o.headers = {{"WWW-Authenticate", "Bearer"}};
    auto token = find_token(in.request.target(), in.request, cfg_.token_from);
    if (!token) {
        o.why = make_error_code(jwt_errc::no_token).message();
        return cb(std::move(o));
    }
    auto who = cfg_.verifier->verify(*token, std::chrono::system_clock::now());
    if (!who) {
        o.why = who.error().message();
        return cb(std::move(o));
    }
    o.accepted = true;
    o.result = auth_result::ok;
    o.who = std::move(*who);
    o.headers.clear();
    cb(std::move(o));
}

}  // namespace wsgated::auth
