// admin_router: what the admin listener answers (SPEC §6): GET /metrics, /healthz, /readyz,
// and the bearer-token gate in front of everything under /v1.
//
// A pure function of the request and the state it reads, so every answer is unit-tested
// without a socket. Runs on the control thread.
#pragma once

#include <functional>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "hub/hub.h"

namespace wsgated::admin {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct admin_state {
    hub::hub* hub = nullptr;
    std::string token;             // empty: /v1 answers 403
    std::function<bool()> ready;   // listeners bound and not draining
};

response route_admin(const request& req, const admin_state& state);

// Constant-time comparison of a presented bearer token with the configured one (compares
// SHA-256 digests, so neither the content nor the length leaks through timing).
bool token_matches(std::string_view presented, std::string_view expected);

}  // namespace wsgated::admin
