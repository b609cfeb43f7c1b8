// base64url: strict decoding of the unpadded base64url (RFC 4648 §5) that JWS (RFC 7515 §2)
// and JWK (RFC 7517) use for every binary value.
//
// Strict on purpose: any character outside the alphabet, '=' padding, whitespace, a length of
// 4n+1, or non-zero unused low bits in the last character make the input invalid. So each byte
// string has exactly one spelling, and a token cannot be re-spelled (and slip past a cache or a
// deny list keyed on its text) while still verifying. Pure; used by auth/jwt_verifier and
// auth/jwt_key on any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wsgated::auth {

std::optional<std::string> base64url_decode(std::string_view in);

}  // namespace wsgated::auth
