// jose: see jose.h. Deliberately shares no code with daemon/auth: the check here is the
// oracle the verifier is judged by.
#include "support/jose.h"

#include <array>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "support/fail.h"

namespace wsgated::fuzz {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey = std::unique_ptr<EVP_PKEY, pkey_deleter>;

const char* stem(test_key k) {
    switch (k) {
        case test_key::hmac: return "hs";
        case test_key::ec256: return "ec256";
        case test_key::ec384: return "ec384";
        case test_key::ec521: return "ec521";
        case test_key::rsa: return "rsa";
    }
    return "";
}

pkey read_key(const std::string& pem, bool is_private) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* k = is_private ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ERR_clear_error();
    if (!k) FUZZ_FAIL();  // the fixtures are broken
    return pkey(k);
}

EVP_PKEY* key_of(test_key k, bool is_private) {
    static std::map<std::pair<int, bool>, pkey> keys;
    auto& slot = keys[{static_cast<int>(k), is_private}];
    if (!slot) slot = read_key(file_text(std::string(stem(k)) + (is_private ? ".key" : ".pub.pem")), is_private);
    return slot.get();
}

struct alg_info {
    test_key family;  // hmac, rsa, or the EC curve
    const EVP_MD* md;
    std::size_t ec_half;  // bytes of r and of s
};

std::optional<alg_info> info(std::string_view alg) {
    if (alg == "HS256") return alg_info{test_key::hmac, EVP_sha256(), 0};
    if (alg == "HS384") return alg_info{test_key::hmac, EVP_sha384(), 0};
    if (alg == "HS512") return alg_info{test_key::hmac, EVP_sha512(), 0};
    if (alg == "RS256") return alg_info{test_key::rsa, EVP_sha256(), 0};
    if (alg == "RS384") return alg_info{test_key::rsa, EVP_sha384(), 0};
    if (alg == "RS512") return alg_info{test_key::rsa, EVP_sha512(), 0};
    if (alg == "ES256") return alg_info{test_key::ec256, EVP_sha256(), 32};
    if (alg == "ES384") return alg_info{test_key::ec384, EVP_sha384(), 48};
    if (alg == "ES512") return alg_info{test_key::ec521, EVP_sha512(), 66};
    return std::nullopt;
}

std::string hmac(const EVP_MD* md, const std::string& key, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), mac, &n);
    return std::string(reinterpret_cast<char*>(mac), n);
}

// r||s (JOSE) ⇄ DER (what EVP signs and verifies for ECDSA).
std::string der_to_raw(const std::string& der, std::size_t half) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    if (!sig) FUZZ_FAIL();
    std::string raw(2 * half, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(half));
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + half, static_cast<int>(half));
    ECDSA_SIG_free(sig);
    return raw;
}

std::optional<std::string> raw_to_der(std::string_view raw, std::size_t half) {
    if (raw.size() != 2 * half) return std::nullopt;
    const auto* b = reinterpret_cast<const unsigned char*>(raw.data());
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(b, static_cast<int>(half), nullptr), BN_bin2bn(b + half, static_cast<int>(half), nullptr));
    unsigned char* out = nullptr;
    int n = i2d_ECDSA_SIG(sig, &out);
    std::optional<std::string> der;
    if (n > 0) der.emplace(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    ECDSA_SIG_free(sig);
    return der;
}

std::string evp_sign(EVP_PKEY* k, const EVP_MD* md, std::string_view input) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t n = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, k) == 1 &&
        EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1) {
        sig.resize(n);
        if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
            FUZZ_FAIL();
        sig.resize(n);
    }
    EVP_MD_CTX_free(ctx);
    if (sig.empty()) FUZZ_FAIL();
    return sig;
}

bool evp_verify(EVP_PKEY* k, const EVP_MD* md, std::string_view input, std::string_view sig) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, k) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                               reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

}  // namespace

std::string b64url_encode(std::string_view bytes) {
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
    }
    if (bytes.size() - i == 1) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
    } else if (bytes.size() - i == 2) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
    }
    return out;
}

std::optional<std::string> b64url_decode_lenient(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : text) {
        auto at = alphabet.find(c);
        if (at == std::string_view::npos) return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(at);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

const std::string& file_text(const std::string& name) {
    static std::map<std::string, std::string> files;
    auto [it, fresh] = files.try_emplace(name);
    if (fresh) {
        std::ifstream in(WSGATED_TEST_DATA "/jwt/" + name, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        it->second = s.str();
        if (it->second.empty()) FUZZ_FAIL();  // run from a tree without tests/data?
    }
    return it->second;
}

const std::string& hmac_secret() {
    static const std::string secret = [] {
        std::string s = file_text("hs.secret");
        if (!s.empty() && s.back() == '\n') s.pop_back();
        return s;
    }();
    return secret;
}

const std::string& public_pem(test_key k) { return file_text(std::string(stem(k)) + ".pub.pem"); }

std::string sign(std::string_view alg, test_key k, std::string_view input, const std::string& hmac_key) {
    auto a = info(alg);
    if (!a) return {};
    if (a->family == test_key::hmac) {
        if (k != test_key::hmac) return {};
        return std::string(input) + "." + b64url_encode(hmac(a->md, hmac_key, input));
    }
    if (a->family != k) return {};
    std::string sig = evp_sign(key_of(k, true), a->md, input);
    if (a->ec_half) sig = der_to_raw(sig, a->ec_half);
    return std::string(input) + "." + b64url_encode(sig);
}

bool signed_by(std::string_view alg, test_key k, std::string_view input, std::string_view signature_text,
               const std::string& hmac_key) {
    auto a = info(alg);
    if (!a || a->family != k) return false;
    auto sig = b64url_decode_lenient(signature_text);
    if (!sig || b64url_encode(*sig) != signature_text) return false;  // one spelling only
    if (k == test_key::hmac) {
        std::string mac = hmac(a->md, hmac_key, input);
        return mac.size() == sig->size() && CRYPTO_memcmp(mac.data(), sig->data(), mac.size()) == 0;
    }
    if (a->ec_half) {
        auto der = raw_to_der(*sig, a->ec_half);
        return der && evp_verify(key_of(k, false), a->md, input, *der);
    }
    return evp_verify(key_of(k, false), a->md, input, *sig);
}

}  // namespace wsgated::fuzz
