// jwks: reads a JSON Web Key Set (RFC 7517 §5) into the keys auth/jwt_verifier checks tokens
// with: kty RSA (n, e), EC (crv P-256/P-384/P-521, x, y) and oct (k), each with an optional
// kid, alg and use.
//
// Called when the verifier is built (config load or reload), never per token. Strict, so that
// a mistake in the file is a config error naming the key, not a token refused at run time:
// bad JSON, an unsupported kty or crv, a bad base64url value, an alg that does not fit its
// key, two keys with one kid. Keys whose `use` is not "sig" (encryption keys an identity
// provider publishes in the same set) are skipped, as they can check no signature.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt_key.h"

namespace wsgated::auth {

struct jwks_result {
    std::vector<jwt_key> keys;  // the signing keys, in file order, when error is empty
    std::string error;          // "keys[2]: unsupported kty 'OKP'"
};

jwks_result parse_jwks(std::string_view json);

}  // namespace wsgated::auth
