// backend_errc: how one backend request ended, in one switch: its outcome label in
// wsgate_backend_requests_total{backend,outcome} and the close code the client gets (SPEC §4:
// 1011, or 1013 when the backend is unreachable or overloaded). docs/backends.md has the table.
#pragma once

#include <array>
#include <string_view>

#include "http_client/http_pool.h"
#include "protocol/close_codes.h"

namespace wsgated::backend {

enum class backend_errc { ok, http_4xx, http_5xx, timeout, unreachable, reset, malformed, overloaded };

inline constexpr std::array<backend_errc, 8> all_backend_errcs{
    backend_errc::ok,          backend_errc::http_4xx, backend_errc::http_5xx,
    backend_errc::timeout,     backend_errc::unreachable, backend_errc::reset,
    backend_errc::malformed,   backend_errc::overloaded};

// An exchange's result: a transport failure, or the status class of a complete answer.
backend_errc classify(const http_client::http_result& r);

std::string_view outcome_label(backend_errc e);

// The close for a client whose request ended with `e`; `status` is the answer's status (0 when
// none): 503 and 429 say "overloaded", so they close 1013 like an unreachable backend.
protocol::close_reason close_for(backend_errc e, unsigned status);

}  // namespace wsgated::backend
