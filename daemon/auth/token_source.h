// token_source: finds the token a client sent for a route with `auth: {type: jwt}`, in the
// places its `token_from` lists (config::token_source), tried in order; the first non-empty
// one wins. Pure function of the request; runs on the handshaking connection's worker.
//
//   query:NAME   the first NAME= parameter of the target's query, percent-decoded, with `+`
//                read as a space (application/x-www-form-urlencoded, which is what browsers'
//                URLSearchParams write: a `+` in a value is sent as %2B). A parameter with a
//                bad %-escape counts as absent.
//   header:NAME  the first NAME header, as is, less surrounding spaces; for `authorization`,
//                a case-insensitive "Bearer " scheme is stripped (RFC 6750 §2.1).
//   cookie:NAME  the first NAME cookie in the Cookie header(s), as RFC 6265 §4.2.1 writes
//                them ("a=1; b=2"), without the optional double quotes; not decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>

#include "config/gateway_config.h"

namespace wsgated::auth {

// `target` is the request target ("/feed?token=…"); `headers` the request's fields (an
// upgrade_request is one: find_token(req.target(), req, route.auth.jwt.token_from)).
std::optional<std::string> find_token(std::string_view target,
                                      const boost::beast::http::fields& headers,
                                      const std::vector<config::token_source>& from);

}  // namespace wsgated::auth
