// jwks: see jwks.h. Public keys are built with OpenSSL 3's EVP_PKEY_fromdata. An EC key is
// checked with EVP_PKEY_public_check, so a point that is not on its curve is a config error; an
// RSA key by rsa_modulus_sound() below, because OpenSSL's RSA public check is not deterministic.
#include "auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "auth/base64url.h"

namespace wsgated::auth {
namespace {

namespace json = boost::json;

// The string member `name`: nullopt when absent; sets `error` when it is not a string.
std::optional<std::string_view> text_member(const json::object& jwk, std::string_view name,
                                            std::string& error) {
    const json::value* v = jwk.if_contains(name);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
        error = "'" + std::string(name) + "' is not a string";
        return std::nullopt;
    }
    return std::string_view(v->get_string());
}

// A required base64url member (n, e, x, y, k), decoded; sets `error` when absent or bad.
std::string binary_member(const json::object& jwk, std::string_view name, std::string& error) {
    std::optional<std::string_view> text = text_member(jwk, name, error);
    if (!error.empty()) return {};
    std::optional<std::string> bytes = text ? base64url_decode(*text) : std::nullopt;
    if (!bytes) error = "'" + std::string(name) + (text ? "' is not base64url" : "' is missing");
    return bytes ? std::move(*bytes) : std::string();
}

// OpenSSL 3's RSA public check (SP 800-56B) runs an enhanced Miller-Rabin test with random
// bases and refuses a modulus whenever that test happens to find a factor: the same JWKS then
// loads on one run and fails on the next (found by tests/fuzz/jwks_fuzz.cpp). These checks give
// the same answer every time: n odd and not prime (a prime n would let anyone sign: its totient
// is n-1; the test's error bound is far below 2^-100 for a composite), e odd, 3 <= e < n.
bool rsa_modulus_sound(const BIGNUM* n, const BIGNUM* e) {
    if (!BN_is_odd(n) || !BN_is_odd(e) || BN_is_one(e) || BN_cmp(e, n) >= 0) return false;
    BN_CTX* ctx = BN_CTX_new();
    bool composite = ctx && BN_check_prime(n, ctx, nullptr) == 0;
    BN_CTX_free(ctx);
    return composite;
}

pkey_ptr from_params(const char* type, OSSL_PARAM_BLD* bld) {
    OSSL_PARAM* params = bld ? OSSL_PARAM_BLD_to_param(bld) : nullptr;
    EVP_PKEY_CTX* ctx = params ? EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr) : nullptr;
    EVP_PKEY* key = nullptr;
    if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    pkey_ptr out(key);
    if (std::string_view(type) == "EC") {
        EVP_PKEY_CTX* check = key ? EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr) : nullptr;
        if (!check || EVP_PKEY_public_check(check) != 1) out.reset();
        EVP_PKEY_CTX_free(check);
    }
    ERR_clear_error();
    return out;
}

const unsigned char* bytes(const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

key_result rsa_key(const json::object& jwk) {
    std::string error;
    std::string n = binary_member(jwk, "n", error);
    std::string e = error.empty() ? binary_member(jwk, "e", error) : std::string();
    if (!error.empty()) return {std::nullopt, error};
    BIGNUM* bn_n = BN_bin2bn(bytes(n), static_cast<int>(n.size()), nullptr);
    BIGNUM* bn_e = BN_bin2bn(bytes(e), static_cast<int>(e.size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    bool built = bld && bn_n && bn_e && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
                 OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
    pkey_ptr key = built && rsa_modulus_sound(bn_n, bn_e) ? from_params("RSA", bld) : nullptr;
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    if (!key) return {std::nullopt, "'n' and 'e' are not an RSA public key"};
    return jwt_key::public_key(std::move(key));
}

struct curve {
    std::string_view crv;  // JOSE name
    const char* group;     // OpenSSL's
    std::size_t size;      // bytes of a coordinate
};

constexpr curve curves[] = {
    {"P-256", "prime256v1", 32}, {"P-384", "secp384r1", 48}, {"P-521", "secp521r1", 66}};

// RFC 7518 §6.2.1.2 wants coordinates at full length, but some writers (PyJWT before 2.8) drop
// leading zero bytes; putting them back is unambiguous, so such a JWK is accepted.
bool left_pad(std::string& coordinate, std::size_t size) {
    if (coordinate.empty() || coordinate.size() > size) return false;
    coordinate.insert(0, size - coordinate.size(), '\0');
    return true;
}

key_result ec_key(const json::object& jwk) {
    std::string error;
    std::optional<std::string_view> crv = text_member(jwk, "crv", error);
    const curve* c = nullptr;
    for (const auto& k : curves)
        if (crv && *crv == k.crv) c = &k;
    if (!c) return {std::nullopt, crv ? "unsupported crv '" + std::string(*crv) + "'"
                                      : error.empty() ? "'crv' is missing" : error};
    std::string x = binary_member(jwk, "x", error);
    std::string y = error.empty() ? binary_member(jwk, "y", error) : std::string();
    if (!error.empty()) return {std::nullopt, error};
    if (!left_pad(x, c->size) || !left_pad(y, c->size))
        return {std::nullopt, "'x' or 'y' is not a " + std::string(c->crv) + " coordinate"};
    std::string point = "\x04" + x + y;  // uncompressed point (SEC 1 §2.3.3)
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    bool built = bld &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    pkey_ptr key = built ? from_params("EC", bld) : nullptr;
    OSSL_PARAM_BLD_free(bld);
    if (!key) return {std::nullopt, "'x' and 'y' are not a point on " + std::string(c->crv)};
    return jwt_key::public_key(std::move(key));
}

key_result key_of_type(const json::object& jwk) {
    std::string error;
    std::optional<std::string_view> kty = text_member(jwk, "kty", error);
    if (!kty) return {std::nullopt, error.empty() ? "'kty' is missing" : error};
    if (*kty == "RSA") return rsa_key(jwk);
    if (*kty == "EC") return ec_key(jwk);
    if (*kty == "oct") {
        std::string k = binary_member(jwk, "k", error);
        if (!error.empty()) return {std::nullopt, error};
        return jwt_key::hmac(std::move(k));
    }
    return {std::nullopt, "unsupported kty '" + std::string(*kty) + "'"};
}

// One JWK with its kid and alg; the alg, when given, must be one we implement and fit the key.
key_result one_key(const json::object& jwk) {
    key_result r = key_of_type(jwk);
    if (!r.key) return r;
    std::string error;
    std::optional<std::string_view> kid = text_member(jwk, "kid", error);
    std::optional<std::string_view> alg = error.empty() ? text_member(jwk, "alg", error)
                                                        : std::nullopt;
    if (!error.empty()) return {std::nullopt, error};
    if (kid) r.key->set_kid(std::string(*kid));
    if (!alg) return r;
    const jws_algorithm* a = find_algorithm(*alg);
    if (!a) return {std::nullopt, "unsupported alg '" + std::string(*alg) + "'"};
    r.key->set_alg(std::string(*alg));
    if (!r.key->fits(*a))
        return {std::nullopt, "alg " + std::string(*alg) + " does not fit " + r.key->describe()};
    return r;
}

// Whether a JWK is for signatures: `use` absent or "sig".
bool for_signing(const json::object& jwk, std::string& error) {
    std::optional<std::string_view> use = text_member(jwk, "use", error);
    return !use || *use == "sig";
}

std::string duplicate_kid(const std::vector<jwt_key>& keys) {
    for (std::size_t i = 0; i < keys.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (keys[i].kid() && keys[i].kid() == keys[j].kid())
                return "two keys have kid '" + *keys[i].kid() + "'";
    return {};
}

}  // namespace

jwks_result parse_jwks(std::string_view text) {
    boost::system::error_code ec;
    json::value doc = json::parse(text, ec);
    if (ec) return {{}, "is not valid JSON (" + ec.message() + ")"};
    const json::value* keys = doc.is_object() ? doc.get_object().if_contains("keys") : nullptr;
    if (!keys || !keys->is_array()) return {{}, "has no \"keys\" array"};
    jwks_result out;
    for (std::size_t i = 0; i < keys->get_array().size(); ++i) {
        const json::value& v = keys->get_array()[i];
        std::string at = "keys[" + std::to_string(i) + "]: ", error;
        if (!v.is_object()) return {{}, at + "is not an object"};
        bool signing = for_signing(v.get_object(), error);
        if (!error.empty()) return {{}, at + error};
        if (!signing) continue;
        key_result r = one_key(v.get_object());
        if (!r.key) return {{}, at + r.error};
        out.keys.push_back(std::move(*r.key));
    }
    if (out.keys.empty()) return {{}, "holds no signing key"};
    if (std::string dup = duplicate_kid(out.keys); !dup.empty()) return {{}, dup};
    return out;
}

}  // namespace wsgated::auth
