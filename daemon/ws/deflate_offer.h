// deflate_offer: how wsgated negotiates permessage-deflate with Beast: the route's settings as
// Beast's option, and what it changes in a client's offers first. Once per handshake.
//
// RFC 7692 §7.1.2.1: the server may answer server_max_window_bits only with the same or a
// smaller value, and zlib cannot compress with an 8-bit window (Beast would answer 9). So an
// offer asking for 8 is removed: the client gets another offer of its own, or no compression —
// never a parameter it did not allow.
#pragma once

#include <boost/beast/websocket/option.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "config/gateway_config.h"
#include "ws/upgrade.h"

namespace wsgated::ws {

void drop_unanswerable_deflate_offers(upgrade_request& req);

// Whether the request still offers permessage-deflate (then Beast, which accepts it, must frame
// the connection's data). A wrong "yes" only costs speed; a wrong "no" cannot happen for an
// offer Beast would take, and even then RFC 7692 §6 lets a server send uncompressed messages.
bool offers_deflate(const upgrade_request& req);

// Beast takes the first permessage-deflate offer only. When that offer names
// server_max_window_bits, accepting it means answering with it (RFC 7692 §7.1.2.1), but Beast
// leaves the parameter out when the window is 15 (its default): complete_deflate_answer puts it
// back in the 101.
bool first_offer_names_server_window(const upgrade_request& req);
void complete_deflate_answer(boost::beast::websocket::response_type& res);

// The route's `compression` block as Beast's option (threshold included).
boost::beast::websocket::permessage_deflate deflate_options(const config::compression_config& c);

}  // namespace wsgated::ws
