// responses: see responses.h.
#include "admin/responses.h"

#include <boost/json/serialize.hpp>

namespace wsgated::admin {

response make_response(reply_to r, http::status s, std::string body, std::string_view type) {
    response res{s, r.version};
    res.set(http::field::server, "wsgated/" WSGATED_VERSION);
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(r.keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

response json(reply_to r, http::status s, const boost::json::value& v) {
    return make_response(r, s, boost::json::serialize(v) + "\n", "application/json");
}

response json_error(reply_to r, http::status s, std::string_view message) {
    return json(r, s, boost::json::object{{"error", message}});
}

response method_not_allowed(reply_to r, std::string_view allow) {
    auto res = json_error(r, http::status::method_not_allowed, "method not allowed; use " + std::string(allow));
    res.set(http::field::allow, allow);
    return res;
}

}  // namespace wsgated::admin
