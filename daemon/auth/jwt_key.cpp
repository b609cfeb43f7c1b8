// jwt_key: see jwt_key.h. Signatures are checked with OpenSSL 3's EVP interfaces.
#include "auth/jwt_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>

namespace wsgated::auth {
namespace {

using enum key_family;
using enum digest;

constexpr std::array<jws_algorithm, 9> algorithms{{
    {"HS256", hmac, sha256, 0},  {"HS384", hmac, sha384, 0},  {"HS512", hmac, sha512, 0},
    {"RS256", rsa, sha256, 0},   {"RS384", rsa, sha384, 0},   {"RS512", rsa, sha512, 0},
    {"ES256", ec, sha256, 32},   {"ES384", ec, sha384, 48},   {"ES512", ec, sha512, 66},
}};

// NIST's RSA guidance (SP 800-131A) has disallowed keys under 2048 bits for signatures since
// 2013; a shorter key in a config is a mistake to report, not to run with.
constexpr int min_rsa_bits = 2048;

const EVP_MD* md_of(digest d) {
    switch (d) {
        case sha256: return EVP_sha256();
        case sha384: return EVP_sha384();
        case sha512: return EVP_sha512();
    }
    return nullptr;
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// The JOSE curve of an EC key, by the size of its coordinates; 0 for any other curve.
std::size_t ec_size_of(evp_pkey_st* key) {
    char name[80] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, name, sizeof name, &len) != 1) return 0;
    switch (OBJ_sn2nid(name)) {
        case NID_X9_62_prime256v1: return 32;
        case NID_secp384r1: return 48;
        case NID_secp521r1: return 66;
        default: return 0;
    }
}

// JOSE sends r||s (RFC 7518 §3.4); EVP_DigestVerify wants a DER ECDSA-Sig-Value. Returns an
// empty string when the parts cannot be converted.
std::string raw_to_der(std::string_view raw, std::size_t half) {
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(bytes(raw), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(bytes(raw) + half, static_cast<int>(half), nullptr);
    std::string der;
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = nullptr;  // owned by sig now
        unsigned char* out = nullptr;
        int len = i2d_ECDSA_SIG(sig, &out);
        if (len > 0) der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
        OPENSSL_free(out);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return der;
}

bool digest_verify(evp_pkey_st* key, digest d, std::string_view input, std::string_view sig) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, md_of(d), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx, bytes(sig), sig.size(), bytes(input), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    // A failed check leaves entries on this thread's OpenSSL error queue; the worker's TLS
    // streams read that queue after their own calls and would blame them on the wrong thing.
    ERR_clear_error();
    return ok;
}

pkey_ptr read_pem_public_key(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) return nullptr;
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    if (!key) {
        BIO_reset(bio);
        if (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
            key = X509_get_pubkey(cert);
            X509_free(cert);
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    return pkey_ptr(key);
}

}  // namespace

void pkey_free::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

const jws_algorithm* find_algorithm(std::string_view name) {
    for (const auto& a : algorithms)
        if (a.name == name) return &a;
    return nullptr;
}

key_result jwt_key::hmac(std::string secret) {
    if (secret.empty()) return {std::nullopt, "the HMAC secret is empty"};
    jwt_key k;
    k.family_ = key_family::hmac;
    k.secret_ = std::move(secret);
    return {std::move(k), {}};
}

key_result jwt_key::public_key(pkey_ptr key) {
    if (!key) return {std::nullopt, "no public key"};
    jwt_key k;
    k.bits_ = EVP_PKEY_get_bits(key.get());
    if (EVP_PKEY_is_a(key.get(), "RSA")) {
        if (k.bits_ < min_rsa_bits)
            return {std::nullopt, "RSA key of " + std::to_string(k.bits_) +
                                      " bits is too short (at least 2048)"};
        k.family_ = key_family::rsa;
    } else if (EVP_PKEY_is_a(key.get(), "EC")) {
        k.ec_size_ = ec_size_of(key.get());
        if (k.ec_size_ == 0)
            return {std::nullopt, "EC key on a curve other than P-256, P-384, P-521"};
        k.family_ = key_family::ec;
    } else {
        const char* type = EVP_PKEY_get0_type_name(key.get());
        return {std::nullopt, std::string("unsupported key type ") + (type ? type : "?")};
    }
    k.pkey_ = std::shared_ptr<evp_pkey_st>(std::move(key));
    return {std::move(k), {}};
}

key_result jwt_key::from_key_file(std::string_view bytes) {
    if (bytes.find("-----BEGIN") != std::string_view::npos) {
        pkey_ptr key = read_pem_public_key(bytes);
        if (!key) return {std::nullopt, "holds PEM text that is not a public key or a certificate"};
        return public_key(std::move(key));
    }
    if (bytes.ends_with('\n')) bytes.remove_suffix(bytes.ends_with("\r\n") ? 2 : 1);
    return hmac(std::string(bytes));
}

bool jwt_key::fits(const jws_algorithm& alg) const {
    if (alg.family != family_) return false;
    if (family_ == key_family::ec && alg.ec_size != ec_size_) return false;
    return alg_.empty() || alg_ == alg.name;
}

bool jwt_key::verify(const jws_algorithm& alg, std::string_view signing_input,
                     std::string_view signature) const {
    switch (family_) {
        case key_family::hmac: return verify_hmac(alg, signing_input, signature);
        case key_family::rsa: return digest_verify(pkey_.get(), alg.hash, signing_input, signature);
        case key_family::ec: return verify_ec(alg, signing_input, signature);
    }
    return false;
}

bool jwt_key::verify_hmac(const jws_algorithm& alg, std::string_view input,
                          std::string_view signature) const {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(md_of(alg.hash), secret_.data(), static_cast<int>(secret_.size()), bytes(input),
              input.size(), mac, &len)) {
        ERR_clear_error();
        return false;
    }
    // The length is public (it is the algorithm's); the bytes are compared in constant time
    // so that response times do not reveal how much of a forged MAC was right.
    return signature.size() == len && CRYPTO_memcmp(signature.data(), mac, len) == 0;
}

bool jwt_key::verify_ec(const jws_algorithm& alg, std::string_view input,
                        std::string_view signature) const {
    // Only the exact JOSE length: r and s padded differently would be the same signature
    // spelled another way (and a DER signature is not JOSE's format at all).
    if (signature.size() != 2 * alg.ec_size) return false;
    std::string der = raw_to_der(signature, alg.ec_size);
    return !der.empty() && digest_verify(pkey_.get(), alg.hash, input, der);
}

std::string jwt_key::describe() const {
    switch (family_) {
        case key_family::hmac: return "an HMAC secret";
        case key_family::rsa: return "an RSA key (" + std::to_string(bits_) + " bits)";
        case key_family::ec:
            return ec_size_ == 32 ? "an EC P-256 key" : ec_size_ == 48 ? "an EC P-384 key"
                                                                      : "an EC P-521 key";
    }
    return "a key";
}

}  // namespace wsgated::auth
