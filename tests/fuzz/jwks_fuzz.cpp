// Fuzz target: auth/jwks (parse_jwks) on any text as a JWKS file, and the verifier built from it.
//
// Properties: a set is either keys or an error, never both, never an empty set without an
// error; the same text always gives the same answer; no two keys share a kid; each key
// describes itself and fits some algorithm, so jwt_verifier::from_jwks with every algorithm
// listed builds exactly when parse_jwks succeeds.
// Then three tokens signed here (HS256 under kid "hmac-1" with the fixtures' secret, ES256 under
// kid "ec-256" with the fixtures' P-256 key, and HS256 under kid "rsa-1" keyed with the RSA
// public key's PEM, the confusion attack) are verified with it: one is accepted only if the set
// holds that very key under that kid, as a signing key (`use` absent or "sig") whose `alg`, if
// any, is the token's — read from the JSON here, independently of jwks.cpp. The confusion token
// is never accepted.
// fuzz-runs: 30000
#include <chrono>
#include <cstdint>
#include <set>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "auth/jwks.h"
#include "auth/jwt_verifier.h"
#include "support/fail.h"
#include "support/jose.h"

namespace {

using namespace wsgated;
namespace json = boost::json;
using fuzz::test_key;

const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(2'000'001'000));

struct signed_token {
    std::string kid, alg, token;
};

const std::vector<signed_token>& tokens() {
    static const std::vector<signed_token> all = [] {
        auto make = [](std::string kid, std::string alg, test_key k, const std::string& secret) {
            std::string input = fuzz::b64url_encode("{\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\"}") + "." +
                                fuzz::b64url_encode("{\"sub\":\"alice\"}");
            return signed_token{kid, alg, fuzz::sign(alg, k, input, secret)};
        };
        return std::vector<signed_token>{
            make("hmac-1", "HS256", test_key::hmac, fuzz::hmac_secret()),
            make("ec-256", "ES256", test_key::ec256, fuzz::hmac_secret()),
            make("rsa-1", "HS256", test_key::hmac, fuzz::public_pem(test_key::rsa)),
        };
    }();
    return all;
}

// The bytes of a base64url member, when it is one.
std::optional<std::string> member_bytes(const json::object& jwk, std::string_view name) {
    const json::value* v = jwk.if_contains(name);
    if (!v || !v->is_string()) return std::nullopt;
    return fuzz::b64url_decode_lenient(v->get_string());
}

// Whether `jwk` is the fixtures' key for token t. EC coordinates may lack leading zero bytes.
bool is_key_of(const json::object& jwk, const signed_token& t) {
    const json::value* kty = jwk.if_contains("kty");
    if (!kty || !kty->is_string()) return false;
    if (t.kid == "hmac-1") return kty->get_string() == "oct" && member_bytes(jwk, "k") == fuzz::hmac_secret();
    if (t.kid != "ec-256" || kty->get_string() != "EC") return false;
    // tests/data/jwt/jwks_single.json holds the same key: compare the coordinates with it.
    static const json::object fixture = json::parse(fuzz::file_text("jwks_single.json")).at("keys").at(0).as_object();
    auto strip = [](std::optional<std::string> s) {
        if (s) s->erase(0, s->find_first_not_of('\0') == std::string::npos ? s->size() : s->find_first_not_of('\0'));
        return s;
    };
    const json::value* crv = jwk.if_contains("crv");
    return crv && crv->is_string() && crv->get_string() == "P-256" &&
           strip(member_bytes(jwk, "x")) == strip(member_bytes(fixture, "x")) &&
           strip(member_bytes(jwk, "y")) == strip(member_bytes(fixture, "y"));
}

// Whether the set (as JSON) holds t's key under t's kid, for signatures, fit for t's alg.
bool holds(const json::value& doc, const signed_token& t) {
    const json::value* keys = doc.is_object() ? doc.get_object().if_contains("keys") : nullptr;
    if (!keys || !keys->is_array()) return false;
    for (const auto& k : keys->get_array()) {
        if (!k.is_object()) continue;
        const auto& jwk = k.get_object();
        const json::value* kid = jwk.if_contains("kid");
        const json::value* use = jwk.if_contains("use");
        const json::value* alg = jwk.if_contains("alg");
        if (!kid || !kid->is_string() || kid->get_string() != t.kid) continue;
        if (use && !(use->is_string() && use->get_string() == "sig")) continue;
        if (alg && !(alg->is_string() && alg->get_string() == t.alg)) continue;
        if (is_key_of(jwk, t)) return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auth::jwks_result set = auth::parse_jwks(text);
    if (set.error.empty() == set.keys.empty()) FUZZ_FAIL();  // keys, or why not
    // The same file, the same answer: a config that loads once loads on every reload.
    auth::jwks_result again = auth::parse_jwks(text);
    if (again.error != set.error || again.keys.size() != set.keys.size()) FUZZ_FAIL();
    std::set<std::string> kids;
    for (const auto& k : set.keys) {
        if (k.describe().empty()) FUZZ_FAIL();
        if (k.kid() && !kids.insert(*k.kid()).second) FUZZ_FAIL();
        bool fits_one = false;
        for (const char* a : {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
            fits_one = fits_one || k.fits(*auth::find_algorithm(a));
        if (!fits_one) FUZZ_FAIL();
    }

    config::auth_jwt_config c;
    c.algorithms = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"};
    auto built = auth::jwt_verifier::from_jwks(text, c);
    if ((built.verifier != nullptr) != set.error.empty()) FUZZ_FAIL();
    if (!built.verifier) return 0;

    boost::system::error_code ec;
    json::value doc = json::parse(text, ec);
    if (ec) FUZZ_FAIL();  // parse_jwks took it
    for (const auto& t : tokens()) {
        auto who = built.verifier->verify(t.token, now);
        if (who && (t.kid == "rsa-1" || !holds(doc, t))) FUZZ_FAIL();
        if (who && who->user != "alice") FUZZ_FAIL();
    }
    return 0;
}
