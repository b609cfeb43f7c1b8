// identity: see identity.h. Shared by the http hook and the JWT verifier, so both name users
// and fill claims by one rule.
#include "auth/identity.h"

#include <charconv>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/utf8.h"

namespace wsgated::auth {
namespace {

std::string number_text(double d) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

}  // namespace

bool usable_name(std::string_view s) {
    if (s.empty() || s.size() > 256 || !protocol::valid_utf8(s)) return false;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

void set_claims(identity& who, const boost::json::object& claims) {
    for (const auto& [name, value] : claims) {
        std::string text;
        if (value.is_string()) text = value.get_string();
        else if (value.is_double()) text = number_text(value.get_double());
        else if (value.is_number() || value.is_bool()) text = boost::json::serialize(value);
        else continue;
        if (usable_name(text)) who.claims.emplace(name, std::move(text));
    }
    who.claims_json = boost::json::serialize(claims);
}

}  // namespace wsgated::auth
