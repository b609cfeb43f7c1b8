// Tests for auth/jwt_verifier against tokens and keys made by PyJWT and the openssl CLI
// (tests/data/jwt/make_fixtures.py), never by wsgated's own code. Every timestamp there is
// fixed, and the tests pass the fixtures' `now` as the verifier's clock.
#include "auth/jwt_verifier.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/err.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

namespace wsgated::auth {
namespace {

namespace json = boost::json;
using clock_type = std::chrono::system_clock;
using namespace std::chrono_literals;

const std::string data_dir = WSGATED_TEST_DATA "/jwt/";

std::string read_text(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const json::object& fixtures() {
    static const json::object doc = [] {
        boost::system::error_code ec;
        json::value v = json::parse(read_text(data_dir + "tokens.json"), ec);
        return ec || !v.is_object() ? json::object() : v.get_object();
    }();
    return doc;
}

std::string token(std::string_view name) {
    const json::value* tokens = fixtures().if_contains("tokens");
    const json::value* t = tokens ? tokens->get_object().if_contains(name) : nullptr;
    if (!t) ADD_FAILURE() << "no fixture token " << name;
    return t ? std::string(t->get_string()) : std::string();
}

clock_type::time_point at_seconds(double s) {
    return clock_type::time_point(
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s)));
}

const double t0 = 2'000'000'000;
const clock_type::time_point now = at_seconds(t0 + 1000);  // the fixtures' "now"

config::auth_jwt_config config_for(std::vector<std::string> algorithms, std::string key_file) {
    config::auth_jwt_config c;
    c.algorithms = std::move(algorithms);
    if (key_file.ends_with(".json")) c.jwks_file = data_dir + key_file;
    else c.key_file = data_dir + key_file;
    c.audience = "feed";
    c.issuer = "https://issuer.example";
    c.leeway = 5s;
    return c;
}

std::shared_ptr<const jwt_verifier> build(const config::auth_jwt_config& c) {
    jwt_build_result r = jwt_verifier::build(c);
    EXPECT_TRUE(r.verifier) << r.error;
    return r.verifier;
}

std::shared_ptr<const jwt_verifier> verifier(std::vector<std::string> algorithms,
                                             std::string key_file) {
    return build(config_for(std::move(algorithms), std::move(key_file)));
}

// "ok", or the refusal's text.
std::string outcome(const std::shared_ptr<const jwt_verifier>& v, std::string_view name,
                    clock_type::time_point when = now) {
    if (!v) return "no verifier";
    auto r = v->verify(token(name), when);
    return r ? "ok" : r.error().message();
}

const std::vector<std::string> all = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                      "RS512", "ES256", "ES384", "ES512"};

// ---- building ----

std::string build_error(std::vector<std::string> algorithms, std::string key_file) {
    jwt_build_result r = jwt_verifier::build(config_for(std::move(algorithms), key_file));
    EXPECT_FALSE(r.verifier);
    return r.error;
}

TEST(jwt_verifier, build_errors_name_the_file) {
    EXPECT_EQ(build_error({"EdDSA"}, "ed25519.pub.pem"),
              data_dir + "ed25519.pub.pem: unsupported key type ED25519");
    EXPECT_EQ(build_error({"HS256"}, "missing.secret"),
              "cannot read " + data_dir + "missing.secret: No such file or directory");
}

TEST(jwt_verifier, a_key_that_no_listed_algorithm_fits_is_refused) {
    EXPECT_EQ(build_error({"RS256", "HS256"}, "ec256.pub.pem"),
              data_dir + "ec256.pub.pem: an EC P-256 key cannot check any of algorithms "
                         "[RS256, HS256]");
    EXPECT_EQ(build_error({"ES512"}, "jwks_single.json"),
              data_dir + "jwks_single.json: an EC P-256 key cannot check any of algorithms "
                         "[ES512]");
}

TEST(jwt_verifier, a_key_set_that_no_listed_algorithm_fits_is_refused) {
    json::value set = json::parse(read_text(data_dir + "jwks.json"));
    json::array& keys = set.at("keys").as_array();
    keys.erase(keys.begin() + 2, keys.end());  // the two RSA signing keys
    jwt_build_result r = jwt_verifier::from_jwks(json::serialize(set),
                                                 config_for({"ES256", "HS256"}, "jwks.json"));
    EXPECT_EQ(r.error, "no key in the set can check any of algorithms [ES256, HS256]");
}

TEST(jwt_verifier, a_key_that_fits_one_listed_algorithm_is_enough) {
    EXPECT_TRUE(build(config_for({"HS256", "RS256", "ES256"}, "ec256.pub.pem")));
}

TEST(jwt_verifier, algorithms_it_does_not_implement_are_refused) {
    EXPECT_EQ(build_error({"HS256", "none"}, "hs.secret"),
              data_dir + "hs.secret: algorithm 'none' is not supported");
    EXPECT_EQ(build_error({"PS256"}, "rsa.pub.pem"),
              data_dir + "rsa.pub.pem: algorithm 'PS256' is not supported");
}

// ---- each algorithm, with its key ----

TEST(jwt_verifier, hs256_hs384_hs512_verify_with_the_secret_file_less_its_newline) {
    auto v = verifier(all, "hs.secret");
    EXPECT_EQ(outcome(v, "hs256"), "ok");
    EXPECT_EQ(outcome(v, "hs384"), "ok");
    EXPECT_EQ(outcome(v, "hs512"), "ok");
}

TEST(jwt_verifier, a_secret_file_may_end_in_crlf) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs_crlf.secret"), "hs256"), "ok");
}

TEST(jwt_verifier, rs256_rs384_rs512_verify_with_the_pem_public_key) {
    auto v = verifier(all, "rsa.pub.pem");
    EXPECT_EQ(outcome(v, "rs256"), "ok");
    EXPECT_EQ(outcome(v, "rs384"), "ok");
    EXPECT_EQ(outcome(v, "rs512"), "ok");
}

TEST(jwt_verifier, a_certificate_gives_its_public_key) {
    EXPECT_EQ(outcome(verifier({"RS256"}, "rsa.crt"), "rs256"), "ok");
}

TEST(jwt_verifier, es256_es384_es512_verify_each_with_its_curve) {
    EXPECT_EQ(outcome(verifier({"ES256"}, "ec256.pub.pem"), "es256"), "ok");
    EXPECT_EQ(outcome(verifier({"ES384"}, "ec384.pub.pem"), "es384"), "ok");
    EXPECT_EQ(outcome(verifier({"ES512"}, "ec521.pub.pem"), "es512"), "ok");
}

// ---- algorithms and keys that must not meet ----

TEST(jwt_verifier, alg_none_is_refused) {
    EXPECT_EQ(outcome(verifier(all, "hs.secret"), "none"), "algorithm not allowed");
    EXPECT_EQ(outcome(verifier(all, "rsa.pub.pem"), "none"), "algorithm not allowed");
}

TEST(jwt_verifier, hs256_with_the_rsa_public_key_pem_as_secret_is_refused) {
    EXPECT_EQ(outcome(verifier({"HS256", "RS256"}, "rsa.pub.pem"), "hs256_rsa_pub_secret"),
              "key does not fit algorithm");
}

TEST(jwt_verifier, rs256_with_an_hmac_secret_is_refused) {
    EXPECT_EQ(outcome(verifier({"HS256", "RS256"}, "hs.secret"), "rs256"),
              "key does not fit algorithm");
}

TEST(jwt_verifier, es256_with_a_p384_key_is_refused) {
    EXPECT_EQ(outcome(verifier({"ES256", "ES384"}, "ec384.pub.pem"), "es256"),
              "key does not fit algorithm");
}

TEST(jwt_verifier, es256_with_an_rsa_key_is_refused) {
    EXPECT_EQ(outcome(verifier({"ES256", "RS256"}, "rsa.pub.pem"), "es256"),
              "key does not fit algorithm");
}

TEST(jwt_verifier, alg_not_in_the_routes_list_is_refused) {
    auto v = verifier({"RS256"}, "rsa.pub.pem");
    EXPECT_EQ(outcome(v, "rs256"), "ok");
    EXPECT_EQ(outcome(v, "rs384"), "algorithm not allowed");
    EXPECT_EQ(outcome(v, "hs256"), "algorithm not allowed");
}

TEST(jwt_verifier, alg_names_are_case_sensitive) {
    EXPECT_EQ(outcome(verifier(all, "hs.secret"), "alg_lower_case"), "algorithm not allowed");
}

// ---- signatures ----

TEST(jwt_verifier, tampered_payload_is_refused) {
    EXPECT_EQ(outcome(verifier({"RS256"}, "rsa.pub.pem"), "rs256_tampered_payload"),
              "bad signature");
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "hs256_tampered_payload"),
              "bad signature");
}

TEST(jwt_verifier, tampered_signature_is_refused) {
    EXPECT_EQ(outcome(verifier({"RS256"}, "rsa.pub.pem"), "rs256_tampered_signature"),
              "bad signature");
    EXPECT_EQ(outcome(verifier({"ES256"}, "ec256.pub.pem"), "es256_tampered_signature"),
              "bad signature");
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "hs256_tampered_signature"),
              "bad signature");
}

TEST(jwt_verifier, an_hmac_of_the_wrong_length_is_refused) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "hs256_short_mac"), "bad signature");
    EXPECT_EQ(outcome(v, "hs256_long_mac"), "bad signature");  // the right MAC, then a byte
}

TEST(jwt_verifier, es256_signature_of_the_wrong_length_is_refused) {
    auto v = verifier({"ES256"}, "ec256.pub.pem");
    // 00||r||00||s holds the right r and s: only the length check refuses it.
    EXPECT_EQ(outcome(v, "es256_padded_signature"), "bad signature");
    EXPECT_EQ(outcome(v, "es256_trailing_bytes"), "bad signature");  // r||s, then a byte
    EXPECT_EQ(outcome(v, "es256_der_signature"), "bad signature");
}

TEST(jwt_verifier, base64url_must_be_canonical_and_unpadded) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "hs256_non_canonical_base64"), "malformed");
    EXPECT_EQ(outcome(v, "hs256_padded_base64"), "malformed");
}

TEST(jwt_verifier, truncated_tokens_are_refused) {
    auto v = verifier({"RS256"}, "rsa.pub.pem");
    EXPECT_EQ(outcome(v, "rs256_truncated_signature"), "bad signature");
    EXPECT_EQ(outcome(v, "rs256_two_parts"), "malformed");
    std::string t = token("rs256");
    for (std::size_t n = 0; n < t.size(); ++n)
        EXPECT_FALSE(v->verify(t.substr(0, n), now)) << n;
}

TEST(jwt_verifier, four_parts_are_malformed) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "hs256_four_parts"), "malformed");
}

TEST(jwt_verifier, a_64_KiB_token_is_too_large) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "large"), "too large");
}

TEST(jwt_verifier, the_size_bound_is_16_KiB) {
    auto v = verifier({"HS256"}, "hs.secret");
    std::string t(jwt_verifier::max_token_size, 'a');
    EXPECT_EQ(v->verify(t, now).error(), jwt_errc::malformed);
    EXPECT_EQ(v->verify(t + "a", now).error(), jwt_errc::too_large);
}

// Every one-character change of a valid token is refused, and nothing throws.
TEST(jwt_verifier, every_single_character_change_is_refused) {
    auto hs = verifier({"HS256"}, "hs.secret");
    auto es = verifier({"ES256"}, "ec256.pub.pem");
    for (auto [v, name] : {std::pair{hs, "hs256"}, std::pair{es, "es256"}}) {
        std::string t = token(name);
        for (std::size_t i = 0; i < t.size(); ++i)
            for (char c : {'A', '.', '_', '\0'}) {
                if (t[i] == c) continue;
                std::string bad = t;
                bad[i] = c;
                EXPECT_NO_THROW(EXPECT_FALSE(v->verify(bad, now)) << name << " at " << i);
            }
    }
}

// ---- header ----

TEST(jwt_verifier, crit_header_is_refused) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "crit"), "malformed");
}

TEST(jwt_verifier, header_must_be_a_json_object_with_a_string_alg) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "header_not_object"), "malformed");
    EXPECT_EQ(outcome(v, "header_not_json"), "malformed");
    EXPECT_EQ(outcome(v, "alg_missing"), "malformed");
    EXPECT_EQ(outcome(v, "alg_not_a_string"), "malformed");
}

TEST(jwt_verifier, signed_payload_must_be_a_json_object) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "payload_not_json"), "malformed");
    EXPECT_EQ(outcome(v, "payload_array"), "malformed");
}

// ---- dates ----

TEST(jwt_verifier, expired_token_is_refused) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "expired"), "expired");
}

TEST(jwt_verifier, token_before_nbf_is_refused) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "nbf_future"), "not yet valid");
}

TEST(jwt_verifier, exp_has_the_leeway) {
    auto v = verifier({"HS256"}, "hs.secret");  // exp = t0 + 3600, leeway 5s
    EXPECT_EQ(outcome(v, "hs256", at_seconds(t0 + 3605)), "ok");
    EXPECT_EQ(outcome(v, "hs256", at_seconds(t0 + 3605.01)), "expired");
}

TEST(jwt_verifier, nbf_has_the_leeway) {
    auto v = verifier({"HS256"}, "hs.secret");  // nbf = t0
    EXPECT_EQ(outcome(v, "hs256", at_seconds(t0 - 5)), "ok");
    EXPECT_EQ(outcome(v, "hs256", at_seconds(t0 - 5.01)), "not yet valid");
}

TEST(jwt_verifier, zero_leeway_is_exact) {
    auto c = config_for({"HS256"}, "hs.secret");
    c.leeway = 0s;
    auto v = build(c);
    EXPECT_EQ(outcome(v, "hs256", at_seconds(t0 + 3600)), "ok");
    EXPECT_EQ(outcome(v, "hs256", at_seconds(t0 + 3600.01)), "expired");
    EXPECT_EQ(outcome(v, "hs256", at_seconds(t0 - 0.01)), "not yet valid");
}

TEST(jwt_verifier, dates_may_be_fractional) {
    auto v = verifier({"HS256"}, "hs.secret");  // nbf = t0 + 0.5, exp = t0 + 3600.5
    EXPECT_EQ(outcome(v, "float_dates", at_seconds(t0 + 3605.4)), "ok");
    EXPECT_EQ(outcome(v, "float_dates", at_seconds(t0 + 3605.6)), "expired");
    EXPECT_EQ(outcome(v, "float_dates", at_seconds(t0 - 4.4)), "ok");
    EXPECT_EQ(outcome(v, "float_dates", at_seconds(t0 - 4.6)), "not yet valid");
}

TEST(jwt_verifier, dates_that_are_not_numbers_are_malformed) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "exp_string"), "malformed");
    EXPECT_EQ(outcome(v, "nbf_string"), "malformed");
    EXPECT_EQ(outcome(v, "exp_null"), "malformed");
}

TEST(jwt_verifier, numbers_too_large_for_a_double_are_malformed) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "exp_infinite"), "malformed");
    EXPECT_EQ(outcome(v, "claim_infinite"), "malformed");
}

TEST(jwt_verifier, a_token_without_dates_is_accepted) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "no_dates"), "ok");
}

// ---- audience and issuer ----

TEST(jwt_verifier, audience_must_match) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "aud_wrong"), "wrong audience");
    EXPECT_EQ(outcome(v, "aud_missing"), "wrong audience");
    EXPECT_EQ(outcome(v, "aud_array_without"), "wrong audience");
}

TEST(jwt_verifier, audience_array_containing_ours_is_accepted) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "aud_array"), "ok");
}

TEST(jwt_verifier, audience_of_another_type_is_malformed) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "aud_number"), "malformed");
    EXPECT_EQ(outcome(v, "aud_array_with_number"), "malformed");
}

TEST(jwt_verifier, audience_is_not_checked_when_not_configured) {
    auto c = config_for({"HS256"}, "hs.secret");
    c.audience.clear();
    auto v = build(c);
    EXPECT_EQ(outcome(v, "aud_wrong"), "ok");
    EXPECT_EQ(outcome(v, "aud_missing"), "ok");
}

TEST(jwt_verifier, issuer_must_match_exactly) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "iss_wrong"), "wrong issuer");
    EXPECT_EQ(outcome(v, "iss_missing"), "wrong issuer");
}

TEST(jwt_verifier, issuer_is_not_checked_when_not_configured) {
    auto c = config_for({"HS256"}, "hs.secret");
    c.issuer.clear();
    EXPECT_EQ(outcome(build(c), "iss_wrong"), "ok");
}

// ---- identity ----

TEST(jwt_verifier, sub_is_the_user) {
    auto r = verifier({"HS256"}, "hs.secret")->verify(token("hs256"), now);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->user, "alice");
    EXPECT_TRUE(r->rooms.empty());
}

TEST(jwt_verifier, sub_must_be_a_string) {
    EXPECT_EQ(outcome(verifier({"HS256"}, "hs.secret"), "sub_number"), "malformed");
}

TEST(jwt_verifier, no_sub_is_an_anonymous_user) {
    auto r = verifier({"HS256"}, "hs.secret")->verify(token("sub_missing"), now);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->user, "");
}

TEST(jwt_verifier, rooms_claim_gives_rooms) {
    auto r = verifier({"HS256"}, "hs.secret")->verify(token("rooms"), now);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->rooms, (std::vector<std::string>{"room:a", "room:b"}));
}

TEST(jwt_verifier, rooms_must_be_an_array_of_room_names) {
    auto v = verifier({"HS256"}, "hs.secret");
    EXPECT_EQ(outcome(v, "rooms_string"), "malformed");
    EXPECT_EQ(outcome(v, "rooms_with_number"), "malformed");
    EXPECT_EQ(outcome(v, "rooms_with_empty_name"), "malformed");
}

TEST(jwt_verifier, scalar_claims_are_kept_as_text) {
    auto r = verifier({"HS256"}, "hs.secret")->verify(token("claims"), now);
    ASSERT_TRUE(r) << r.error().message();
    const auto& c = r->claims;
    EXPECT_EQ(c.at("tenant"), "acme");
    EXPECT_EQ(c.at("name"), "Zoë");
    EXPECT_EQ(c.at("level"), "3");
    EXPECT_EQ(c.at("admin"), "false");
    EXPECT_EQ(c.at("exp"), "2000003600");
    EXPECT_EQ(c.at("sub"), "alice");
    EXPECT_EQ(c.count("nested") + c.count("list") + c.count("nothing"), 0u);
}

TEST(jwt_verifier, claims_json_is_the_whole_payload) {
    auto r = verifier({"HS256"}, "hs.secret")->verify(token("claims"), now);
    ASSERT_TRUE(r) << r.error().message();
    boost::system::error_code ec;
    json::value v = json::parse(r->claims_json, ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(v.at("nested").at("a").as_int64(), 1);
    EXPECT_EQ(v.at("list").as_array().size(), 2u);
    EXPECT_TRUE(v.at("nothing").is_null());
    EXPECT_EQ(v.at("tenant").as_string(), "acme");
}

// ---- JWKS ----

TEST(jwt_verifier, jwks_kid_chooses_the_key_for_each_algorithm) {
    auto v = verifier(all, "jwks.json");
    for (const char* name : {"jwks_rs256", "jwks_rs512", "jwks_es256", "jwks_es384", "jwks_hs256"})
        EXPECT_EQ(outcome(v, name), "ok") << name;
}

TEST(jwt_verifier, jwks_p521_key_with_an_unpadded_coordinate_is_used) {
    EXPECT_EQ(outcome(verifier(all, "jwks.json"), "jwks_es512"), "ok");
}

TEST(jwt_verifier, jwks_unknown_kid_is_refused) {
    EXPECT_EQ(outcome(verifier(all, "jwks.json"), "jwks_kid_unknown"), "no key for kid");
}

TEST(jwt_verifier, jwks_encryption_keys_are_not_used) {
    EXPECT_EQ(outcome(verifier(all, "jwks.json"), "jwks_kid_enc"), "no key for kid");
}

TEST(jwt_verifier, jwks_token_without_kid_needs_a_single_key_set) {
    EXPECT_EQ(outcome(verifier(all, "jwks.json"), "rs256"), "no key for kid");
    EXPECT_EQ(outcome(verifier(all, "jwks_single.json"), "es256"), "ok");
}

TEST(jwt_verifier, jwks_kid_must_name_a_key_even_in_a_single_key_set) {
    EXPECT_EQ(outcome(verifier(all, "jwks_single.json"), "jwks_es256"), "no key for kid");
}

TEST(jwt_verifier, jwks_kid_must_be_a_string) {
    EXPECT_EQ(outcome(verifier(all, "jwks.json"), "jwks_kid_number"), "malformed");
}

TEST(jwt_verifier, jwks_key_alg_must_match_the_tokens) {
    auto v = verifier(all, "jwks.json");
    EXPECT_EQ(outcome(v, "jwks_hs384_kid_hmac_1"), "key does not fit algorithm");
    EXPECT_EQ(outcome(v, "jwks_rs256_kid_rsa_rs384"), "key does not fit algorithm");
}

TEST(jwt_verifier, jwks_hs256_with_an_rsa_kid_is_refused) {
    EXPECT_EQ(outcome(verifier(all, "jwks.json"), "jwks_hs256_kid_rsa_1"),
              "key does not fit algorithm");
}

TEST(jwt_verifier, jwks_es256_with_a_p384_kid_is_refused) {
    EXPECT_EQ(outcome(verifier(all, "jwks.json"), "jwks_es256_kid_ec_384"),
              "key does not fit algorithm");
}

// A worker's TLS streams read OpenSSL's per-thread error queue after their own calls: a
// refused token must not leave entries there.
TEST(jwt_verifier, refusals_leave_no_openssl_errors_behind) {
    auto rsa = verifier({"RS256"}, "rsa.pub.pem");
    auto ec = verifier({"ES256"}, "ec256.pub.pem");
    ERR_clear_error();
    for (auto [v, name] : {std::pair{rsa, "rs256_tampered_signature"},
                           std::pair{rsa, "rs256_truncated_signature"},
                           std::pair{ec, "es256_tampered_signature"}}) {
        EXPECT_FALSE(v->verify(token(name), now));
        EXPECT_EQ(ERR_peek_error(), 0ul) << name;
    }
}

// ---- concurrency ----

// verify() is const and shares its keys between worker threads (run under ASan/UBSan).
TEST(jwt_verifier, verifies_from_many_threads_at_once) {
    auto v = verifier(all, "jwks.json");
    std::vector<std::pair<std::string, bool>> cases = {
        {token("jwks_rs256"), true}, {token("jwks_es256"), true}, {token("jwks_hs256"), true},
        {token("jwks_kid_unknown"), false}, {token("jwks_hs256_kid_rsa_1"), false}};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i)
                for (const auto& [tok, ok] : cases)
                    if (static_cast<bool>(v->verify(tok, now)) != ok) ++wrong;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace wsgated::auth
