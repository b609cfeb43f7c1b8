// tls13_client (tests only): the client's side of TLS 1.3 records, written from RFC 8446
// (§5.2-5.4, §7.1-7.3) on OpenSSL's own TLS13-KDF and EVP AEADs, so that net/tls13_records is
// checked by an implementation that is not its own. Shared by the unit test and the fuzz target.
#pragma once

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace wsgated::test {

struct suite_info {
    std::uint16_t id;
    const char* cipher;
    const char* md;
    std::size_t key_size, hash_size;
};
inline const suite_info aes128{0x1301, "AES-128-GCM", "SHA256", 16, 32};
inline const suite_info aes256{0x1302, "AES-256-GCM", "SHA384", 32, 48};
inline const suite_info chacha{0x1303, "ChaCha20-Poly1305", "SHA256", 32, 32};

// HKDF-Expand-Label by OpenSSL's TLS13-KDF.
inline std::string expand_label(const suite_info& s, const std::string& secret, const char* label, std::size_t size) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_TLS1_3_KDF, nullptr);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    unsigned char none = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(s.md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()), secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, const_cast<char*>("tls13 "), 6),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, const_cast<char*>(label), std::strlen(label)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, &none, 0),
        OSSL_PARAM_construct_end(),
    };
    std::string out(size, '\0');
    if (EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), size, params) != 1) out.clear();
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return out;
}

// One direction of the client's records.
class client_side {
public:
    client_side(const suite_info& s, std::string secret, std::uint64_t seq = 0) : s_(s), secret_(std::move(secret)) {
        derive();
        seq_ = seq;
    }
    void next_generation() {
        secret_ = expand_label(s_, secret_, "traffic upd", s_.hash_size);
        derive();
    }
    // A record: `body`, its inner type, `padding` zeros.
    std::string seal(std::uint8_t type, const std::string& body, std::size_t padding = 0) {
        std::string inner = body + static_cast<char>(type) + std::string(padding, '\0');
        std::size_t length = inner.size() + 16;
        std::string rec = {23, 3, 3, static_cast<char>(length >> 8), static_cast<char>(length & 0xff)};
        rec.resize(5 + length);
        crypt(1, rec, inner.data(), inner.size());
        return rec;
    }
    // The inner type and body of the record at the front of `stream`, which it removes: -1 for
    // no whole record, -2 for one that does not open.
    std::pair<int, std::string> open(std::string& stream) {
        if (stream.size() < 5) return {-1, {}};
        std::size_t length = std::size_t{static_cast<unsigned char>(stream[3])} << 8 | static_cast<unsigned char>(stream[4]);
        if (stream.size() < 5 + length || length < 17) return {-1, {}};
        std::string rec = stream.substr(0, 5 + length);
        stream.erase(0, 5 + length);
        std::string inner(length - 16, '\0');
        if (!crypt(0, rec, inner.data(), inner.size())) return {-2, {}};
        while (!inner.empty() && inner.back() == 0) inner.pop_back();
        if (inner.empty()) return {-2, {}};
        int type = static_cast<unsigned char>(inner.back());
        inner.pop_back();
        return {type, inner};
    }

private:
    void derive() {
        key_ = expand_label(s_, secret_, "key", s_.key_size);
        iv_ = expand_label(s_, secret_, "iv", 12);
        seq_ = 0;
    }
    // Seals `n` bytes at `plain` into rec's body (encrypt), or opens rec's body into `plain`.
    bool crypt(int encrypt, std::string& rec, char* plain, std::size_t n) {
        std::string nonce = iv_;
        for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<char>(seq_ >> (8 * i));
        ++seq_;
        static EVP_CIPHER* ciphers[3] = {EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr),
                                         EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr),
                                         EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr)};
        EVP_CIPHER* c = ciphers[(s_.id - 0x1301) % 3];
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        auto* u = reinterpret_cast<unsigned char*>(rec.data());
        auto* p = reinterpret_cast<unsigned char*>(plain);
        int got = 0;
        bool ok = EVP_CipherInit_ex(ctx, c, nullptr, reinterpret_cast<const unsigned char*>(key_.data()),
                                    reinterpret_cast<const unsigned char*>(nonce.data()), encrypt) == 1 &&
                  EVP_CipherUpdate(ctx, nullptr, &got, u, 5) == 1;
        if (encrypt) {
            ok = ok && EVP_CipherUpdate(ctx, u + 5, &got, p, static_cast<int>(n)) == 1 &&
                 EVP_CipherFinal_ex(ctx, u + 5 + n, &got) == 1 &&
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, u + 5 + n) == 1;
        } else {
            ok = ok && EVP_CipherUpdate(ctx, p, &got, u + 5, static_cast<int>(n)) == 1 &&
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, u + 5 + n) == 1 &&
                 EVP_CipherFinal_ex(ctx, p + n, &got) == 1;
        }
        EVP_CIPHER_CTX_free(ctx);
        return ok;
    }

    suite_info s_;
    std::string secret_, key_, iv_;
    std::uint64_t seq_ = 0;
};

}  // namespace wsgated::test
