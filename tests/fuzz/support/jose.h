// jose: what the jwt and jwks fuzz targets need besides wsgated's own auth code: base64url
// encoding, signing with the test keys of tests/data/jwt (the unit tests' fixtures), and a
// signature check written independently of auth/jwt_key (OpenSSL's EVP calls used directly),
// that the targets hold every token the verifier accepts against.
//
// Keys are read once, at first use, from WSGATED_TEST_DATA/jwt. Single-threaded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wsgated::fuzz {

std::string b64url_encode(std::string_view bytes);
// Lenient (padding and unused bits ignored, nothing else allowed): the oracle's own decoder.
std::optional<std::string> b64url_decode_lenient(std::string_view text);

// The test keys. `pem` is the public key as a key_file holds it.
enum class test_key { hmac, ec256, ec384, ec521, rsa };
const std::string& hmac_secret();                 // tests/data/jwt/hs.secret, less its newline
const std::string& public_pem(test_key k);        // ec256.pub.pem, ec384.pub.pem, … rsa.pub.pem
const std::string& file_text(const std::string& name);  // any file of tests/data/jwt

// "header.payload.signature" signed with `k` (HMAC keys: any secret) under `alg` (HS*, ES256,
// RS*); empty when `alg` cannot be made with that key.
std::string sign(std::string_view alg, test_key k, std::string_view signing_input,
                 const std::string& hmac_key = hmac_secret());

// Whether `signature_text` is the canonical base64url of a valid signature of `signing_input`
// under `alg` by key `k` (its public half; for HMAC, `hmac_key`).
bool signed_by(std::string_view alg, test_key k, std::string_view signing_input,
               std::string_view signature_text, const std::string& hmac_key = hmac_secret());

}  // namespace wsgated::fuzz
