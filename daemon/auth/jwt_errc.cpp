// jwt_errc: the texts of the refusals, in one table (see jwt_errc.h).
#include "auth/jwt_errc.h"

#include <string>

namespace wsgated::auth {

std::string_view to_string(jwt_errc e) {
    switch (e) {
        case jwt_errc::no_token: return "no token";
        case jwt_errc::too_large: return "too large";
        case jwt_errc::malformed: return "malformed";
        case jwt_errc::alg_not_allowed: return "algorithm not allowed";
        case jwt_errc::key_mismatch: return "key does not fit algorithm";
        case jwt_errc::no_key: return "no key for kid";
        case jwt_errc::bad_signature: return "bad signature";
        case jwt_errc::expired: return "expired";
        case jwt_errc::not_yet_valid: return "not yet valid";
        case jwt_errc::wrong_audience: return "wrong audience";
        case jwt_errc::wrong_issuer: return "wrong issuer";
    }
    return "unknown";
}

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "wsgated.jwt"; }
    std::string message(int ev) const override {
        return std::string(to_string(static_cast<jwt_errc>(ev)));
    }
};

}  // namespace

const boost::system::error_category& jwt_category() {
    static const category instance;
    return instance;
}

}  // namespace wsgated::auth
