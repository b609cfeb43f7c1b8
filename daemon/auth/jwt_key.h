// jwt_key: one key a JWT signature is checked with (an HMAC secret, an RSA or an EC public
// key), the JWS algorithms (RFC 7518 §3.1) we implement, and which of them fits which key.
//
// Keys are made once, when auth/jwt_verifier is built by the config loader, from a key_file
// (here) or a JWKS (auth/jwks), and are immutable after: verify() is const and is called by
// every worker thread at once (OpenSSL 3 allows concurrent read-only use of an EVP_PKEY).
// Nothing here throws; errors are texts fit for a config error line.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, so that config/ including this sees no OpenSSL

namespace wsgated::auth {

enum class key_family { hmac, rsa, ec };
enum class digest { sha256, sha384, sha512 };

struct jws_algorithm {
    std::string_view name;  // "ES256"
    key_family family;
    digest hash;
    std::size_t ec_size;    // ES*: bytes of each of r and s (32, 48, 66); 0 otherwise
};

// The algorithm called `name` (exact case), or nullptr: "none" and anything we do not
// implement ("PS256", "EdDSA", "hs256") are never found.
const jws_algorithm* find_algorithm(std::string_view name);

struct pkey_free {
    void operator()(evp_pkey_st* key) const;
};
using pkey_ptr = std::unique_ptr<evp_pkey_st, pkey_free>;

struct key_result;

class jwt_key {
public:
    // HMAC keys; the secret must not be empty.
    static key_result hmac(std::string secret);
    // RSA (at least 2048 bits) or EC on P-256, P-384 or P-521; anything else is an error.
    static key_result public_key(pkey_ptr key);
    // A key_file's bytes: PEM text ("-----BEGIN") is a public key or a certificate (its key
    // is taken, the certificate itself is not checked); any other bytes are an HMAC secret,
    // less one trailing newline ("\n" or "\r\n") that editors and `echo` add.
    static key_result from_key_file(std::string_view bytes);

    // The JWK's "kid" and "alg", if it had them (auth/jwks).
    void set_kid(std::string kid) { kid_ = std::move(kid); }
    void set_alg(std::string alg) { alg_ = std::move(alg); }
    const std::optional<std::string>& kid() const { return kid_; }

    // Whether a token signed with `alg` may be checked with this key: same family (never an
    // HMAC algorithm with a public key, or the reverse), the curve of an ES algorithm, and
    // the JWK's own "alg" when it has one.
    bool fits(const jws_algorithm& alg) const;

    // Checks `signature` (decoded bytes) over `signing_input` ("header.payload" as sent).
    // The caller has checked fits(alg). HMAC is compared in constant time; ES signatures must
    // be JOSE's r||s of exactly 2 * ec_size bytes.
    bool verify(const jws_algorithm& alg, std::string_view signing_input,
                std::string_view signature) const;

    // "an HMAC secret", "an RSA key (2048 bits)", "an EC P-256 key": for config errors.
    std::string describe() const;

private:
    jwt_key() = default;
    bool verify_hmac(const jws_algorithm& alg, std::string_view input,
                     std::string_view signature) const;
    bool verify_ec(const jws_algorithm& alg, std::string_view input,
                   std::string_view signature) const;

    key_family family_ = key_family::hmac;
    std::size_t ec_size_ = 0;
    int bits_ = 0;
    std::string secret_;
    std::shared_ptr<evp_pkey_st> pkey_;  // shared: keys are copied into a verifier's set
    std::optional<std::string> kid_;
    std::string alg_;  // empty: any algorithm of its family
};

struct key_result {
    std::optional<jwt_key> key;  // set on success
    std::string error;           // else why: "unsupported key type ED25519"
};

}  // namespace wsgated::auth
