// Tests for the JWT verifier as the config loader builds it (config/sections_auth.cpp): a key
// file the verifier cannot use is a config error at the key_file / jwks_file key, a good one
// gives a working verifier, and loading again (what a reload does) reads the keys again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "auth/jwt_verifier.h"
#include "loader/loader.h"

namespace wsgated::config {
namespace {

namespace fs = std::filesystem;

const std::string data_dir = WSGATED_TEST_DATA "/jwt/";

env_lookup no_env() {
    return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string errors_of(const std::string& yaml) {
    std::string out;
    for (const auto& e : load_string(yaml, "t.yaml", no_env()).errors) out += e.to_string() + "\n";
    return out;
}

std::string jwt_route(const std::string& algorithms, const std::string& key) {
    return "routes:\n  - path: /feed\n    backend: echo\n    auth:\n      type: jwt\n"
           "      algorithms: " + algorithms + "\n      " + key + "\n";
}

std::string read_text(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const auto fixture_now = std::chrono::system_clock::time_point(std::chrono::seconds(2'000'001'000));

// One token of tests/data/jwt/tokens.json.
std::string fixture_token(const std::string& name) {
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(read_text(data_dir + "tokens.json"), ec);
    const boost::json::value* t = ec ? nullptr : doc.find_pointer("/tokens/" + name, ec);
    return t && t->is_string() ? std::string(t->get_string()) : std::string();
}

TEST(jwt_config, bad_jwks_json_is_an_error_at_jwks_file) {
    std::string errors = errors_of(jwt_route("[ES256]", "jwks_file: " + data_dir +
                                                            "jwks_bad_json.json"));
    std::string expected = "t.yaml:7:18: routes[0].auth.jwks_file: " + data_dir +
                           "jwks_bad_json.json: is not valid JSON (";
    EXPECT_TRUE(errors.starts_with(expected)) << errors;
    EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 1) << errors;
}

TEST(jwt_config, jwks_with_an_unsupported_kty_is_an_error_at_jwks_file) {
    EXPECT_EQ(errors_of(jwt_route("[ES256]", "jwks_file: " + data_dir +
                                                 "jwks_unsupported_kty.json")),
              "t.yaml:7:18: routes[0].auth.jwks_file: " + data_dir +
                  "jwks_unsupported_kty.json: keys[0]: unsupported kty 'OKP'\n");
}

TEST(jwt_config, key_file_of_an_unsupported_type_is_an_error_at_key_file) {
    EXPECT_EQ(errors_of(jwt_route("[ES256]", "key_file: " + data_dir + "ed25519.pub.pem")),
              "t.yaml:7:17: routes[0].auth.key_file: " + data_dir +
                  "ed25519.pub.pem: unsupported key type ED25519\n");
}

TEST(jwt_config, key_that_no_listed_algorithm_fits_is_an_error) {
    EXPECT_EQ(errors_of(jwt_route("[RS256, HS256]", "key_file: " + data_dir + "ec256.pub.pem")),
              "t.yaml:7:17: routes[0].auth.key_file: " + data_dir +
                  "ec256.pub.pem: an EC P-256 key cannot check any of algorithms [RS256, HS256]\n");
}

TEST(jwt_config, a_refused_algorithm_is_reported_once) {
    EXPECT_EQ(errors_of(jwt_route("[none]", "key_file: " + data_dir + "ec256.pub.pem")),
              "t.yaml:6:20: routes[0].auth.algorithms[0]: 'none' is never accepted: an unsigned "
              "token proves nothing\n");
}

TEST(jwt_config, a_good_key_file_gives_a_working_verifier) {
    load_result r = load_string(jwt_route("[ES256]", "key_file: " + data_dir + "ec256.pub.pem") +
                                    "      audience: feed\n",
                                "t.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    const auto& verifier = r.config->routes[0].auth.jwt.verifier;
    ASSERT_TRUE(verifier);
    EXPECT_TRUE(verifier->verify(fixture_token("es256"), fixture_now));
    EXPECT_EQ(verifier->verify(fixture_token("hs256"), fixture_now).error(),
              auth::jwt_errc::alg_not_allowed);
}

TEST(jwt_config, the_verifier_takes_audience_issuer_and_leeway_from_the_route) {
    load_result r = load_string(jwt_route("[HS256]", "key_file: " + data_dir + "hs.secret") +
                                    "      audience: feed\n      issuer: https://issuer.example\n"
                                    "      leeway: 0s\n",
                                "t.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    const auto& v = *r.config->routes[0].auth.jwt.verifier;
    EXPECT_EQ(v.verify(fixture_token("aud_wrong"), fixture_now).error(),
              auth::jwt_errc::wrong_audience);
    EXPECT_EQ(v.verify(fixture_token("iss_wrong"), fixture_now).error(),
              auth::jwt_errc::wrong_issuer);
    auto just_after_exp = fixture_now + std::chrono::seconds(2601);  // exp + 1s
    EXPECT_EQ(v.verify(fixture_token("hs256"), just_after_exp).error(), auth::jwt_errc::expired);
}

TEST(jwt_config, a_good_jwks_file_gives_a_working_verifier) {
    load_result r = load_string(jwt_route("[RS256, ES256]", "jwks_file: " + data_dir + "jwks.json"),
                                "t.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    const auto& verifier = r.config->routes[0].auth.jwt.verifier;
    ASSERT_TRUE(verifier);
    EXPECT_TRUE(verifier->verify(fixture_token("jwks_rs256"), fixture_now));
    EXPECT_TRUE(verifier->verify(fixture_token("jwks_es256"), fixture_now));
}

// A reload (SIGHUP) runs the loader again (server::reload): the new snapshot's verifier has the
// file's new key, and the old snapshot, still held by open handshakes, keeps the old one.
TEST(jwt_config, loading_again_reads_the_key_file_again) {
    fs::path secret =
        fs::temp_directory_path() / ("wsgated_jwt_reload_" + std::to_string(getpid()));
    fs::copy_file(data_dir + "hs.secret", secret, fs::copy_options::overwrite_existing);
    std::string yaml = jwt_route("[HS256]", "key_file: " + secret.string());
    load_result before = load_string(yaml, "t.yaml", no_env());
    std::ofstream(secret, std::ios::trunc) << "another-secret\n";
    load_result after = load_string(yaml, "t.yaml", no_env());
    fs::remove(secret);
    ASSERT_TRUE(before.errors.empty() && after.errors.empty());
    std::string token = fixture_token("hs256");
    EXPECT_TRUE(before.config->routes[0].auth.jwt.verifier->verify(token, fixture_now));
    EXPECT_EQ(after.config->routes[0].auth.jwt.verifier->verify(token, fixture_now).error(),
              auth::jwt_errc::bad_signature);
}

}  // namespace
}  // namespace wsgated::config
