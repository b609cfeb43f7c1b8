// responses: how the admin listener answers — JSON bodies, JSON errors {"error": "…"}, the
// Server and Cache-Control headers — for the router and the control API alike.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

namespace wsgated::admin {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// What an answer needs of its request; copied into asynchronous handlers (a worker may answer
// after the request object is gone).
struct reply_to {
    unsigned version = 11;
    bool keep_alive = true;
    static reply_to of(const request& req) { return {req.version(), req.keep_alive()}; }
};

// Delivers the answer; may be called from any thread, exactly once.
using responder = std::function<void(response)>;

response make_response(reply_to r, http::status s, std::string body, std::string_view type);
response json(reply_to r, http::status s, const boost::json::value& v);
response json_error(reply_to r, http::status s, std::string_view message);
response method_not_allowed(reply_to r, std::string_view allow);

}  // namespace wsgated::admin
