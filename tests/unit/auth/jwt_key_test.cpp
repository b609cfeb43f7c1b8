// Tests for auth/jwt_key: what a key_file may hold (keys made by the openssl CLI, in
// tests/data/jwt), and which algorithm fits which key.
#include "auth/jwt_key.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace wsgated::auth {
namespace {

const std::string data_dir = WSGATED_TEST_DATA "/jwt/";

std::string read_text(const std::string& file) {
    std::ifstream in(data_dir + file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

key_result from_file(const std::string& name) { return jwt_key::from_key_file(read_text(name)); }

std::string error_of(const std::string& name) {
    key_result r = from_file(name);
    EXPECT_FALSE(r.key) << name;
    return r.error;
}

// The algorithms (of the nine) that a key file's key fits.
std::string fitting(const std::string& name) {
    key_result r = from_file(name);
    if (!r.key) return "error: " + r.error;
    std::string out;
    for (const char* a : {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384",
                          "ES512"})
        if (r.key->fits(*find_algorithm(a))) out += (out.empty() ? "" : " ") + std::string(a);
    return out;
}

TEST(jwt_key, each_key_fits_only_its_own_algorithms) {
    EXPECT_EQ(fitting("hs.secret"), "HS256 HS384 HS512");
    EXPECT_EQ(fitting("rsa.pub.pem"), "RS256 RS384 RS512");
    EXPECT_EQ(fitting("rsa.crt"), "RS256 RS384 RS512");
    EXPECT_EQ(fitting("ec256.pub.pem"), "ES256");
    EXPECT_EQ(fitting("ec384.pub.pem"), "ES384");
    EXPECT_EQ(fitting("ec521.pub.pem"), "ES512");
}

TEST(jwt_key, describes_the_key) {
    EXPECT_EQ(from_file("hs.secret").key->describe(), "an HMAC secret");
    EXPECT_EQ(from_file("rsa.pub.pem").key->describe(), "an RSA key (2048 bits)");
    EXPECT_EQ(from_file("ec521.pub.pem").key->describe(), "an EC P-521 key");
}

TEST(jwt_key, none_and_unimplemented_algorithms_are_not_found) {
    EXPECT_EQ(find_algorithm("none"), nullptr);
    EXPECT_EQ(find_algorithm("PS256"), nullptr);
    EXPECT_EQ(find_algorithm("EdDSA"), nullptr);
    EXPECT_EQ(find_algorithm("hs256"), nullptr);
    ASSERT_NE(find_algorithm("ES512"), nullptr);
    EXPECT_EQ(find_algorithm("ES512")->ec_size, 66u);
}

TEST(jwt_key, a_private_key_file_is_refused) {
    EXPECT_EQ(error_of("rsa.key"), "holds PEM text that is not a public key or a certificate");
}

TEST(jwt_key, rsa_keys_under_2048_bits_are_refused) {
    EXPECT_EQ(error_of("rsa1024.pub.pem"), "RSA key of 1024 bits is too short (at least 2048)");
}

TEST(jwt_key, ec_keys_on_other_curves_are_refused) {
    EXPECT_EQ(error_of("secp256k1.pub.pem"), "EC key on a curve other than P-256, P-384, P-521");
}

TEST(jwt_key, other_key_types_are_refused) {
    EXPECT_EQ(error_of("ed25519.pub.pem"), "unsupported key type ED25519");
}

TEST(jwt_key, a_secret_file_holding_only_a_newline_is_refused) {
    EXPECT_EQ(error_of("empty.secret"), "the HMAC secret is empty");
}

TEST(jwt_key, only_one_trailing_newline_is_stripped_from_a_secret) {
    // "s\n\n" is the secret "s\n": an HMAC over "x" with it differs from one with "s".
    key_result one = jwt_key::from_key_file("s\n");
    key_result two = jwt_key::from_key_file("s\n\n");
    ASSERT_TRUE(one.key && two.key);
    const jws_algorithm& hs256 = *find_algorithm("HS256");
    // HMAC-SHA256("s", "x"), computed with: printf x | openssl dgst -sha256 -hmac s -binary
    std::string mac = from_hex("cefb105ee22996fb167ed606478d2931b87aa3ab99b4b04b68c4fc16c8b49a30");
    EXPECT_TRUE(one.key->verify(hs256, "x", mac));
    EXPECT_FALSE(two.key->verify(hs256, "x", mac));
}

}  // namespace
}  // namespace wsgated::auth
