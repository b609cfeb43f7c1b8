// auth_hook: see auth_hook.h.
#include "auth/auth_hook.h"

namespace wsgated::auth {

std::string_view label(auth_result r) {
    switch (r) {
    case auth_result::ok: return "ok";
    case auth_result::denied: return "denied";
    case auth_result::error: return "error";
    case auth_result::timeout: return "timeout";
    case auth_result::cache_hit: return "cache_hit";
    }
    return "error";
}

// A hook that itself answers 503 is a refusal (denied); only our own failures to ask are errors.
std::string_view failure_reason(auth_result r) {
    switch (r) {
    case auth_result::timeout: return "auth_timeout";
    case auth_result::error: return "auth_error";
    case auth_result::ok:
    case auth_result::denied:
    case auth_result::cache_hit: break;
    }
    return "auth_denied";
}

}  // namespace wsgated::auth
