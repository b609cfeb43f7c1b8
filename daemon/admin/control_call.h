// control_call: one /v1 call as the control API reads it (decoded path segments and query),
// and the checks and answers that every call shares: the body as a message, ?code=&reason=,
// id and name checks, delivery outcomes as HTTP statuses, and connection/member views as JSON.
//
// Pure functions of the request (the views of what delivery answered): unit-testable without
// a listener. Run on the admin listener's thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "admin/admin_router.h"
#include "core/connection.h"
#include "hub/answers.h"

namespace wsgated::admin {

struct call {
    const request& req;
    const admin_state& state;
    reply_to r;
    std::vector<std::string> seg;
    std::map<std::string, std::string> query;

    hub::delivery& delivery() const { return *state.delivery; }
    std::string param(const std::string& key) const {
        auto it = query.find(key);
        return it == query.end() ? std::string() : it->second;
    }
};

// Fills seg and query; false when the path or query is malformed (a 400).
bool parse_call(call& c);
// The one mapping from a delivery outcome that is not ok to an HTTP answer.
response outcome_error(const reply_to& r, hub::outcome o);
// The request body as a message: text for Content-Type text/* (valid UTF-8 only), else binary.
std::optional<response> body_message(const call& c, core::message& out);
// ?code= (1000 or 3000-4999, digits only) and ?reason= (UTF-8, at most 123 bytes).
std::optional<response> parse_close(const call& c, std::uint16_t& code, std::string& reason);
std::optional<response> check_id(const call& c, const std::string& id);
std::optional<response> check_name(const call& c, const std::string& name, const char* what);
boost::json::object view_json(const hub::connection_view& v);
boost::json::array members_json(const std::vector<hub::member>& ms);

}  // namespace wsgated::admin
