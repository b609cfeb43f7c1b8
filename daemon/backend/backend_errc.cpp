// backend_errc: see backend_errc.h.
#include "backend/backend_errc.h"

namespace wsgated::backend {

backend_errc classify(const http_client::http_result& r) {
    switch (r.failure) {
    case http_client::http_failure::unreachable: return backend_errc::unreachable;
    case http_client::http_failure::overloaded: return backend_errc::overloaded;
    case http_client::http_failure::timeout: return backend_errc::timeout;
    case http_client::http_failure::reset: return backend_errc::reset;
    case http_client::http_failure::malformed: return backend_errc::malformed;
    case http_client::http_failure::none: break;
    }
    unsigned status = r.response.result_int();
    if (status >= 200 && status < 300) return backend_errc::ok;
    if (status >= 400 && status < 500) return backend_errc::http_4xx;
    if (status >= 500 && status < 600) return backend_errc::http_5xx;
    // 101 (the pool reads past interim 1xx answers) and 3xx: nothing a gateway can act on.
    return backend_errc::malformed;
}

std::string_view outcome_label(backend_errc e) {
    switch (e) {
    case backend_errc::ok: return "ok";
    case backend_errc::http_4xx: return "http_4xx";
    case backend_errc::http_5xx: return "http_5xx";
    case backend_errc::timeout: return "timeout";
    case backend_errc::unreachable: return "unreachable";
    case backend_errc::reset: return "reset";
    case backend_errc::malformed: return "malformed";
    case backend_errc::overloaded: return "overloaded";
    }
    return "malformed";
}

protocol::close_reason close_for(backend_errc e, unsigned status) {
    switch (e) {
    case backend_errc::ok: return protocol::close_normal;
    case backend_errc::unreachable:
    case backend_errc::overloaded: return protocol::close_backend_unavailable;
    case backend_errc::timeout: return protocol::close_backend_timeout;
    case backend_errc::http_4xx:
    case backend_errc::http_5xx:
        if (status == 503 || status == 429) return protocol::close_backend_unavailable;
        return protocol::close_backend_error;
    case backend_errc::reset:
    case backend_errc::malformed: return protocol::close_backend_error;
    }
    return protocol::close_backend_error;
}

}  // namespace wsgated::backend
