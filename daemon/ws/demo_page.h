// demo_page: the page a browser gets on `server.demo_page` (off unless configured): it opens a
// WebSocket to a route of this gateway (default /echo), shows the connection's state, what is
// sent and what comes back, and each echo's round trip. For a new user's first minutes
// (README) and for checking a listener from a browser; nothing in it is needed to serve.
//
// A plain GET (or HEAD) that is not an upgrade gets it; an upgrade on the same path is a
// route's business as usual. Runs in the handshake, on the connection's worker.
#pragma once

#include <string_view>

#include "core/upgrade_request.h"

namespace wsgated::ws {

// Whether `req` asks for the demo page at `path` (empty: the page is off).
bool wants_demo_page(const core::upgrade_request& req, std::string_view path);

// The page: one HTML document, script and style inline, nothing fetched from elsewhere.
std::string_view demo_page_html();

}  // namespace wsgated::ws
