// jwt_errc: why auth/jwt_verifier refused a token, as an error_code enum with its category.
//
// The text of each value is short and fixed ("expired", "bad signature"): it goes to logs and
// to the auth_requests_total{result} reason, and never carries anything from the token, so a
// client cannot make us log what it wants. The client itself only ever sees a plain 401.
#pragma once

#include <string_view>
#include <type_traits>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

namespace wsgated::auth {

enum class jwt_errc {
    no_token = 1,     // none of the route's token_from places held one
    too_large,        // over jwt_verifier::max_token_size, refused before decoding
    malformed,        // not three base64url parts, bad JSON, a claim of the wrong type
    alg_not_allowed,  // `alg` not in the route's algorithms (`none` never is)
    key_mismatch,     // the key cannot be used with `alg` (HMAC vs public key, curve, JWK alg)
    no_key,           // no key in the JWKS for the token's `kid`
    bad_signature,
    expired,          // now > exp + leeway
    not_yet_valid,    // now + leeway < nbf
    wrong_audience,
    wrong_issuer,
};

// The fixed text of a value ("expired"); "unknown" for a value not in the enum.
std::string_view to_string(jwt_errc e);

const boost::system::error_category& jwt_category();

inline boost::system::error_code make_error_code(jwt_errc e) {
    return {static_cast<int>(e), jwt_category()};
}

}  // namespace wsgated::auth

template <>
struct boost::system::is_error_code_enum<wsgated::auth::jwt_errc> : std::true_type {};
