// Fuzz target: auth/jwt_verifier (with auth/jwt_key and auth/base64url under it) on tokens of
// any bytes, against four verifiers made from the unit tests' keys (tests/data/jwt): an HS*
// secret, an RSA key, an EC P-256 key whose route also lists HS256 (the algorithm-confusion
// setup), and the fixtures' JWKS with audience and issuer checks.
//
// Input byte 0: bits 0-1 the verifier; bit 2 the mode. Raw mode: the rest is the token. Sign
// mode: bits 3-5 pick a signing key — a right one, or a wrong one (HMAC keyed with the RSA or EC
// public key's PEM text, the classic confusion attack; another HMAC secret) — and the rest is
// `header JSON \n payload JSON` (with no newline: the payload, under a header made here), which
// this target encodes and signs; then the token is also tried with one byte changed.
//
// Properties, for every token the verifier accepts: it is signed by the verifier's key for the
// header's `alg` (checked here with OpenSSL directly, not through jwt_key), that `alg` is one
// the route lists and fits that key (a JWKS key's own `alg` included), all three parts are the
// one canonical base64url spelling, it is within max_token_size, exp/nbf/aud/iss hold at `now`,
// and the identity is the claims: user = `sub`, rooms = `rooms`, claims_json = the payload as
// Boost.JSON writes it.
// And the other way: a token signed right, under the header made here, whose payload is a JSON
// object with none of the checked claims, is accepted.
// fuzz-runs: 20000
#include <chrono>
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "auth/jwt_verifier.h"
#include "support/fail.h"
#include "support/jose.h"

namespace {

using namespace wsgated;
namespace json = boost::json;
using fuzz::test_key;

const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(2'000'001'000));  // the fixtures'
constexpr double leeway = 5;

enum class which { hs, rs, es, jwks };

struct route_verifier {
    which kind;
    std::vector<std::string> algorithms;
    std::shared_ptr<const auth::jwt_verifier> v;
};

route_verifier make(which kind, std::vector<std::string> algorithms, const std::string& key_file) {
    config::auth_jwt_config c;
    c.algorithms = algorithms;
    c.leeway = std::chrono::seconds(5);
    if (kind == which::jwks) {
        c.audience = "feed";
        c.issuer = "https://issuer.example";
    }
    auto r = kind == which::jwks ? auth::jwt_verifier::from_jwks(fuzz::file_text(key_file), c)
                                 : auth::jwt_verifier::from_key_file(fuzz::file_text(key_file), c);
    if (!r.verifier) FUZZ_FAIL();
    return {kind, std::move(algorithms), std::move(r.verifier)};
}

const route_verifier& verifier(unsigned i) {
    static const route_verifier all[] = {
        make(which::hs, {"HS256", "HS384", "HS512"}, "hs.secret"),
        make(which::rs, {"RS256", "RS384", "RS512"}, "rsa.pub.pem"),
        make(which::es, {"ES256", "HS256"}, "ec256.pub.pem"),
        make(which::jwks, {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"},
             "jwks.json"),
    };
    return all[i & 3];
}

// tests/data/jwt/jwks.json: kid → key and the JWK's own alg (empty: any of its family).
// rsa-enc is an encryption key (use: enc): the verifier must skip it.
bool jwks_key(std::string_view kid, std::string_view alg, test_key& key) {
    struct entry {
        std::string_view kid;
        test_key key;
        std::string_view alg;
    };
    static const entry keys[] = {{"rsa-1", test_key::rsa, ""},   {"rsa-rs384", test_key::rsa, "RS384"},
                                 {"ec-256", test_key::ec256, "ES256"}, {"ec-384", test_key::ec384, ""},
                                 {"ec-521", test_key::ec521, ""}, {"hmac-1", test_key::hmac, "HS256"}};
    for (const auto& e : keys)
        if (e.kid == kid && (e.alg.empty() || e.alg == alg)) {
            key = e.key;
            return true;
        }
    return false;
}

std::optional<json::object> canonical_object(std::string_view part) {
    auto text = fuzz::b64url_decode_lenient(part);
    if (!text || fuzz::b64url_encode(*text) != part) FUZZ_FAIL();  // accepted, so canonical
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object()) FUZZ_FAIL();
    return v.get_object();
}

std::optional<double> date(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return v.get_double();
    return std::nullopt;
}

bool string_is(const json::value* v, std::string_view s) { return v && v->is_string() && v->get_string() == s; }

// Everything an accepted token must be.
void check_accepted(const route_verifier& rv, std::string_view token, const auth::identity& who) {
    if (token.size() > auth::jwt_verifier::max_token_size) FUZZ_FAIL();
    auto d1 = token.find('.'), d2 = token.find('.', d1 + 1);
    if (d1 == std::string_view::npos || d2 == std::string_view::npos) FUZZ_FAIL();
    auto header = canonical_object(token.substr(0, d1));
    auto claims = canonical_object(token.substr(d1 + 1, d2 - d1 - 1));
    const json::value* alg = header->if_contains("alg");
    if (!alg || !alg->is_string() || header->contains("crit")) FUZZ_FAIL();
    std::string_view a = alg->get_string();
    if (std::find(rv.algorithms.begin(), rv.algorithms.end(), a) == rv.algorithms.end()) FUZZ_FAIL();
    test_key key = test_key::hmac;
    switch (rv.kind) {
    case which::hs: key = test_key::hmac; break;
    case which::rs: key = test_key::rsa; break;
    case which::es: key = test_key::ec256; break;
    case which::jwks: {
        const json::value* kid = header->if_contains("kid");
        if (!kid || !kid->is_string() || !jwks_key(kid->get_string(), a, key)) FUZZ_FAIL();
        break;
    }
    }
    if (!fuzz::signed_by(a, key, token.substr(0, d2), token.substr(d2 + 1))) FUZZ_FAIL();

    double t = std::chrono::duration<double>(now.time_since_epoch()).count();
    if (const json::value* exp = claims->if_contains("exp")) {
        auto at = date(*exp);
        if (!at || !std::isfinite(*at) || t > *at + leeway) FUZZ_FAIL();
    }
    if (const json::value* nbf = claims->if_contains("nbf")) {
        auto at = date(*nbf);
        if (!at || !std::isfinite(*at) || t + leeway < *at) FUZZ_FAIL();
    }
    if (rv.kind == which::jwks) {
        const json::value* aud = claims->if_contains("aud");
        bool aud_ok = string_is(aud, "feed");
        if (aud && aud->is_array())
            for (const auto& x : aud->get_array()) aud_ok = aud_ok || string_is(&x, "feed");
        if (!aud_ok || !string_is(claims->if_contains("iss"), "https://issuer.example")) FUZZ_FAIL();
    }
    const json::value* sub = claims->if_contains("sub");
    if (sub && !sub->is_string()) FUZZ_FAIL();
    if (who.user != (sub ? std::string_view(sub->get_string()) : std::string_view())) FUZZ_FAIL();
    if (!who.user.empty() && !auth::usable_name(who.user)) FUZZ_FAIL();
    std::vector<std::string> rooms;
    if (const json::value* r = claims->if_contains("rooms")) {
        if (!r->is_array()) FUZZ_FAIL();
        for (const auto& x : r->get_array()) {
            if (!x.is_string()) FUZZ_FAIL();
            rooms.emplace_back(x.get_string());
        }
    }
    if (who.rooms != rooms) FUZZ_FAIL();
    for (const auto& room : who.rooms)
        if (!auth::usable_name(room)) FUZZ_FAIL();
    // claims_json is the claims as written back by Boost.JSON (so it parses; a double with more
    // digits than it needs may come back one ulp away — Boost 1.81 parses them imprecisely — which
    // is why the text is compared and not a second parse of it).
    boost::system::error_code ec;
    json::value back = json::parse(who.claims_json, ec);
    if (ec || !back.is_object() || who.claims_json != json::serialize(*claims)) FUZZ_FAIL();
}

bool accepted(const route_verifier& rv, std::string_view token) {
    auto r = rv.v->verify(token, now);
    if (r) check_accepted(rv, token, *r);
    return r.has_value();
}

struct signer {
    test_key key;
    std::string hmac_key;  // HMAC: the secret used
    std::string alg;       // the default algorithm
    std::string kid;       // for the JWKS verifier
};

const signer& signer_of(unsigned i) {
    static const signer all[] = {
        {test_key::hmac, fuzz::hmac_secret(), "HS256", "hmac-1"},
        {test_key::ec256, {}, "ES256", "ec-256"},
        {test_key::rsa, {}, "RS256", "rsa-1"},
        {test_key::ec384, {}, "ES384", "ec-384"},
        {test_key::ec521, {}, "ES512", "ec-521"},
        {test_key::hmac, fuzz::public_pem(test_key::rsa), "HS256", "rsa-1"},   // confusion
        {test_key::hmac, fuzz::public_pem(test_key::ec256), "HS256", "ec-256"},  // confusion
        {test_key::hmac, fuzz::hmac_secret() + "x", "HS256", "hmac-1"},  // a wrong secret
    };
    return all[i & 7];
}

// The signer that is this verifier's own key, for the liveness check.
bool rightful(const route_verifier& rv, unsigned s) {
    return (rv.kind == which::hs && s == 0) || (rv.kind == which::rs && s == 2) || (rv.kind == which::es && s == 1);
}

bool plain_claims(std::string_view payload) {
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec || !v.is_object()) return false;
    for (const char* k : {"exp", "nbf", "aud", "iss", "sub", "rooms"})
        if (v.get_object().contains(k)) return false;
    std::function<bool(const json::value&)> finite = [&](const json::value& x) {
        if (x.is_double()) return std::isfinite(x.get_double());
        if (x.is_array())
            for (const auto& y : x.get_array())
                if (!finite(y)) return false;
        if (x.is_object())
            for (const auto& y : x.get_object())
                if (!finite(y.value())) return false;
        return true;
    };
    return finite(v);
}

void sign_mode(const route_verifier& rv, unsigned s, std::string_view in, std::uint8_t twist) {
    const signer& who = signer_of(s);
    auto nl = in.find('\n');
    bool made_here = nl == std::string_view::npos;
    std::string header = made_here ? "{\"alg\":\"" + who.alg + "\",\"kid\":\"" + who.kid + "\"}" : std::string(in.substr(0, nl));
    std::string payload(made_here ? in : in.substr(nl + 1));
    std::string alg = who.alg;
    boost::system::error_code ec;
    json::value h = json::parse(header, ec);
    if (!ec && h.is_object() && h.get_object().contains("alg") && h.get_object().at("alg").is_string())
        alg = h.get_object().at("alg").get_string();
    std::string input = fuzz::b64url_encode(header) + "." + fuzz::b64url_encode(payload);
    std::string token = fuzz::sign(alg, who.key, input, who.hmac_key);
    if (token.empty()) token = fuzz::sign(who.alg, who.key, input, who.hmac_key);  // alg is a lie then
    bool ok = accepted(rv, token);
    if (made_here && rightful(rv, s) && plain_claims(payload) && !ok) FUZZ_FAIL();
    if (token.empty()) return;
    token[(twist * 131u + token.size()) % token.size()] ^= static_cast<char>(1 << (twist & 7));
    accepted(rv, token);  // any change: check_accepted would fail if this passed
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const route_verifier& rv = verifier(data[0] & 3);
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] & 4) sign_mode(rv, (data[0] >> 3) & 7, in, data[size - 1]);
    else accepted(rv, in);
    return 0;
}
