// jwt_verifier: see jwt_verifier.h. JSON is read with Boost.JSON's error_code overloads, so a
// malformed token is a value, never an exception.
#include "auth/jwt_verifier.h"

#include <cmath>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "auth/base64url.h"
#include "auth/jwks.h"
#include "config/read_file.h"

namespace wsgated::auth {
namespace {

namespace json = boost::json;
using boost::system::error_code;

struct token_parts {
    std::string_view header, payload, signature;
    std::string_view signing_input;  // "header.payload", exactly as sent: what was signed
};

// header.payload.signature. A fourth part (or a JWE's five) leaves a '.' in the signature,
// which base64url_decode refuses.
std::optional<token_parts> split_token(std::string_view token) {
    std::size_t first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    std::size_t second = token.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    return token_parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                       token.substr(second + 1), token.substr(0, second)};
}

// A base64url part holding a JSON object (the header, the claims).
std::optional<json::object> decode_object(std::string_view part) {
    std::optional<std::string> text = base64url_decode(part);
    if (!text) return std::nullopt;
    error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

// Boost.JSON reads a number too large for a double (1e999) as infinity, which it would then
// write back as `Infinity`: not JSON. Such claims would break claims_json and defeat `exp`, so
// the payload is refused. Depth is bounded by the parser (32 levels).
bool all_finite(const json::object& o);

bool all_finite(const json::value& v) {
    if (v.is_double()) return std::isfinite(v.get_double());
    if (v.is_object()) return all_finite(v.get_object());
    if (v.is_array())
        for (const json::value& item : v.get_array())
            if (!all_finite(item)) return false;
    return true;
}

bool all_finite(const json::object& o) {
    for (const auto& member : o)
        if (!all_finite(member.value())) return false;
    return true;
}

// A NumericDate (RFC 7519 §2): seconds since the epoch, integer or not.
std::optional<double> numeric_date(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return v.get_double();
    return std::nullopt;
}

bool equals(const json::value& v, std::string_view text) {
    return v.is_string() && std::string_view(v.get_string()) == text;
}

error_code refuse(jwt_errc e) { return make_error_code(e); }

// Names follow auth/identity's usable_name, as the http hook's answers do.
// `sub` → user, `rooms` → rooms, scalar claims → claims as text, the payload → claims_json.
boost::system::result<identity> make_identity(const json::object& claims) {
    identity who;
    if (const json::value* sub = claims.if_contains("sub")) {
        if (!sub->is_string() || !usable_name(sub->get_string())) return refuse(jwt_errc::malformed);
        who.user = sub->get_string();
    }
    if (const json::value* rooms = claims.if_contains("rooms")) {
        if (!rooms->is_array()) return refuse(jwt_errc::malformed);
        for (const json::value& room : rooms->get_array()) {
            if (!room.is_string() || !usable_name(room.get_string()))
                return refuse(jwt_errc::malformed);
            who.rooms.emplace_back(room.get_string());
        }
    }
    set_claims(who, claims);
    return who;
}

std::string names_of(const std::vector<const jws_algorithm*>& algorithms) {
    std::string out;
    for (const jws_algorithm* a : algorithms)
        out += (out.empty() ? "" : ", ") + std::string(a->name);
    return "[" + out + "]";
}

}  // namespace

jwt_build_result jwt_verifier::build(const config::auth_jwt_config& cfg) {
    bool jwks = !cfg.jwks_file.empty();
    const std::string& file = jwks ? cfg.jwks_file : cfg.key_file;
    if (file.empty()) return {nullptr, "no key_file or jwks_file"};
    std::string content, why;
    if (!config::read_file(file, content, why))
        return {nullptr, "cannot read " + file + ": " + why};
    jwt_build_result r = jwks ? from_jwks(content, cfg) : from_key_file(content, cfg);
    if (!r.verifier) r.error = file + ": " + r.error;
    return r;
}

jwt_build_result jwt_verifier::from_key_file(std::string_view bytes,
                                             const config::auth_jwt_config& cfg) {
    key_result k = jwt_key::from_key_file(bytes);
    if (!k.key) return {nullptr, k.error};
    std::vector<jwt_key> keys;
    keys.push_back(std::move(*k.key));
    return make(std::move(keys), false, cfg);
}

jwt_build_result jwt_verifier::from_jwks(std::string_view json,
                                         const config::auth_jwt_config& cfg) {
    jwks_result set = parse_jwks(json);
    if (!set.error.empty()) return {nullptr, set.error};
    return make(std::move(set.keys), true, cfg);
}

// Refuses a route whose every token would be refused: no algorithm fits any key (an EC key
// with algorithms [RS256]). A partial fit is fine: [HS256, ES256] with an EC key takes ES256.
jwt_build_result jwt_verifier::make(std::vector<jwt_key> keys, bool jwks,
                                    const config::auth_jwt_config& cfg) {
    std::shared_ptr<jwt_verifier> v(new jwt_verifier());
    for (const std::string& name : cfg.algorithms) {
        const jws_algorithm* a = find_algorithm(name);
        if (!a) return {nullptr, "algorithm '" + name + "' is not supported"};
        v->algorithms_.push_back(a);
    }
    bool usable = false;
    for (const jwt_key& k : keys)
        for (const jws_algorithm* a : v->algorithms_) usable = usable || k.fits(*a);
    if (!usable) {
        std::string what = keys.size() == 1 ? keys[0].describe() + " cannot"
                                            : std::string("no key in the set can");
        return {nullptr, what + " check any of algorithms " + names_of(v->algorithms_)};
    }
    v->keys_ = std::move(keys);
    v->jwks_ = jwks;
    v->audience_ = cfg.audience;
    v->issuer_ = cfg.issuer;
    v->leeway_ = std::chrono::duration<double>(cfg.leeway).count();
    return {std::move(v), {}};
}

boost::system::result<identity> jwt_verifier::verify(
    std::string_view token, std::chrono::system_clock::time_point now) const {
    if (token.size() > max_token_size) return refuse(jwt_errc::too_large);
    std::optional<token_parts> parts = split_token(token);
    std::optional<json::object> header = parts ? decode_object(parts->header) : std::nullopt;
    if (!header) return refuse(jwt_errc::malformed);
    auto alg = algorithm_of(*header);
    if (!alg) return alg.error();
    auto key = key_for(*header, **alg);
    if (!key) return key.error();
    std::optional<std::string> signature = base64url_decode(parts->signature);
    if (!signature) return refuse(jwt_errc::malformed);
    if (!(*key)->verify(**alg, parts->signing_input, *signature))
        return refuse(jwt_errc::bad_signature);
    // Only now is the payload worth parsing: it is what the key's owner signed.
    std::optional<json::object> claims = decode_object(parts->payload);
    if (!claims || !all_finite(*claims)) return refuse(jwt_errc::malformed);
    if (error_code ec = check_dates(*claims, now)) return ec;
    if (error_code ec = check_audience(*claims)) return ec;
    if (error_code ec = check_issuer(*claims)) return ec;
    return make_identity(*claims);
}

// The route lists what it accepts; the token's header only says which of those it claims.
// `none` is never in algorithms_ (find_algorithm does not know it), so it is refused here.
boost::system::result<const jws_algorithm*> jwt_verifier::algorithm_of(
    const json::object& header) const {
    const json::value* alg = header.if_contains("alg");
    if (!alg || !alg->is_string()) return refuse(jwt_errc::malformed);
    // `crit` lists extensions the recipient must understand (RFC 7515 §4.1.11); we know none.
    if (header.contains("crit")) return refuse(jwt_errc::malformed);
    for (const jws_algorithm* a : algorithms_)
        if (equals(*alg, a->name)) return a;
    return refuse(jwt_errc::alg_not_allowed);
}

// A key_file is the only key (a `kid` is ignored); in a JWKS, `kid` chooses, and a token
// without one may use the set's only key. The key must fit the algorithm: this is what stops
// an HS256 token "signed" with the RSA public key as its HMAC secret.
boost::system::result<const jwt_key*> jwt_verifier::key_for(const json::object& header,
                                                            const jws_algorithm& alg) const {
    const jwt_key* key = nullptr;
    const json::value* kid = header.if_contains("kid");
    if (!jwks_) {
        key = &keys_.front();
    } else if (kid) {
        if (!kid->is_string()) return refuse(jwt_errc::malformed);
        for (const jwt_key& k : keys_)
            if (k.kid() && equals(*kid, *k.kid())) key = &k;
    } else if (keys_.size() == 1) {
        key = &keys_.front();
    }
    if (!key) return refuse(jwt_errc::no_key);
    if (!key->fits(alg)) return refuse(jwt_errc::key_mismatch);
    return key;
}

error_code jwt_verifier::check_dates(const json::object& claims,
                                     std::chrono::system_clock::time_point now) const {
    double t = std::chrono::duration<double>(now.time_since_epoch()).count();
    if (const json::value* exp = claims.if_contains("exp")) {
        std::optional<double> at = numeric_date(*exp);
        if (!at) return refuse(jwt_errc::malformed);
        if (t > *at + leeway_) return refuse(jwt_errc::expired);
    }
    if (const json::value* nbf = claims.if_contains("nbf")) {
        std::optional<double> at = numeric_date(*nbf);
        if (!at) return refuse(jwt_errc::malformed);
        if (t + leeway_ < *at) return refuse(jwt_errc::not_yet_valid);
    }
    return {};
}

// `aud` may be one string or an array of them (RFC 7519 §4.1.3); ours must be among them.
error_code jwt_verifier::check_audience(const json::object& claims) const {
    if (audience_.empty()) return {};
    const json::value* aud = claims.if_contains("aud");
    if (!aud) return refuse(jwt_errc::wrong_audience);
    if (aud->is_string())
        return equals(*aud, audience_) ? error_code() : refuse(jwt_errc::wrong_audience);
    if (!aud->is_array()) return refuse(jwt_errc::malformed);
    bool found = false;
    for (const json::value& a : aud->get_array()) {
        if (!a.is_string()) return refuse(jwt_errc::malformed);
        found = found || equals(a, audience_);
    }
    return found ? error_code() : refuse(jwt_errc::wrong_audience);
}

error_code jwt_verifier::check_issuer(const json::object& claims) const {
    if (issuer_.empty()) return {};
    const json::value* iss = claims.if_contains("iss");
    if (!iss) return refuse(jwt_errc::wrong_issuer);
    if (!iss->is_string()) return refuse(jwt_errc::malformed);
    return equals(*iss, issuer_) ? error_code() : refuse(jwt_errc::wrong_issuer);
}

}  // namespace wsgated::auth
