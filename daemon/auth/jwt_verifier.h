// jwt_verifier: checks a JSON Web Token (JWS compact form, RFC 7515 / 7519) locally, for a
// route with `auth: {type: jwt}` (SPEC §5), and yields who the client is or why it was refused.
//
// Built by the config loader (config/sections_auth.cpp) from the route's auth_jwt_config, so a
// bad key file is a config error and a reload (SIGHUP) re-reads the keys; the config snapshot
// holds it as shared_ptr<const jwt_verifier>. verify() is const and runs on the handshaking
// connection's worker, on many workers at once. No input makes it throw: every refusal is a
// jwt_errc value whose text never carries token data.
//
// What it checks, in this order (docs/auth.md): size (max_token_size), three strict base64url
// parts, header JSON with `alg` in the route's algorithms (never `none`) and no `crit`, a key
// that fits `alg` (chosen by `kid` in a JWKS), the signature, then the claims `exp` and `nbf`
// (with leeway), `aud` and `iss` when configured, and `sub` and `rooms` as names (1–256 bytes
// of UTF-8, no control characters: they go into headers and control API paths).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>
#include <boost/system/result.hpp>

#include "auth/identity.h"
#include "auth/jwt_errc.h"
#include "auth/jwt_key.h"
#include "config/gateway_config.h"

namespace wsgated::auth {

class jwt_verifier;

struct jwt_build_result {
    std::shared_ptr<const jwt_verifier> verifier;  // set on success
    std::string error;  // else why, e.g. "/etc/wsgated/jwt.pem: unsupported key type ED25519"
};

class jwt_verifier {
public:
    // Larger tokens are refused before any decoding, so a client cannot make a handshake
    // decode and parse much; real tokens are a few hundred bytes to a few KiB.
    static constexpr std::size_t max_token_size = 16 * 1024;

    // Reads cfg.key_file or cfg.jwks_file (one is set) and checks cfg.algorithms against the
    // keys: at least one algorithm must fit some key.
    static jwt_build_result build(const config::auth_jwt_config& cfg);
    // The same from the file's bytes; errors do not name the file.
    static jwt_build_result from_key_file(std::string_view bytes,
                                          const config::auth_jwt_config& cfg);
    static jwt_build_result from_jwks(std::string_view json, const config::auth_jwt_config& cfg);

    // The client's identity, or a jwt_errc. `now` is passed in so tests can fix the clock.
    boost::system::result<identity> verify(std::string_view token,
                                           std::chrono::system_clock::time_point now) const;

private:
    jwt_verifier() = default;
    static jwt_build_result make(std::vector<jwt_key> keys, bool jwks,
                                 const config::auth_jwt_config& cfg);
    boost::system::result<const jws_algorithm*> algorithm_of(
        const boost::json::object& header) const;
    boost::system::result<const jwt_key*> key_for(const boost::json::object& header,
                                                  const jws_algorithm& alg) const;
    boost::system::error_code check_dates(const boost::json::object& claims,
                                          std::chrono::system_clock::time_point now) const;
    boost::system::error_code check_audience(const boost::json::object& claims) const;
    boost::system::error_code check_issuer(const boost::json::object& claims) const;

    std::vector<jwt_key> keys_;
    bool jwks_ = false;  // keys_ came from a JWKS: `kid` chooses among them
    std::vector<const jws_algorithm*> algorithms_;
    std::string audience_;  // empty: `aud` not checked
    std::string issuer_;    // empty: `iss` not checked
    double leeway_ = 5;     // seconds
};

}  // namespace wsgated::auth
