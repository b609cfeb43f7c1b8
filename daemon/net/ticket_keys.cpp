// ticket_keys: see ticket_keys.h. The callback runs on whichever worker does the handshake: the
// key ring is behind a mutex (a few hundred ns against a handshake's ~200 µs).
#include "net/ticket_keys.h"

#include <chrono>
#include <cstring>
#include <mutex>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

namespace wsgated::net {
namespace {

using clock = std::chrono::steady_clock;
constexpr auto rotation = std::chrono::hours(12);

struct ticket_key {
    unsigned char name[16];
    unsigned char aes[32];   // AES-256-CBC
    unsigned char hmac[32];  // HMAC-SHA256
};

class key_ring {
public:
    // The key to encrypt a new ticket with.
    bool current(ticket_key& k) {
        std::lock_guard lock(m_);
        if (!ready_ || clock::now() - made_ >= rotation) rotate();
        k = current_;
        return ready_;
    }
    // The key a ticket names: 1 found (current), 2 found (previous: renew it), 0 unknown.
    int find(const unsigned char* name, ticket_key& k) {
        std::lock_guard lock(m_);
        if (ready_ && std::memcmp(name, current_.name, sizeof current_.name) == 0) {
            k = current_;
            return 1;
        }
        if (has_previous_ && std::memcmp(name, previous_.name, sizeof previous_.name) == 0) {
            k = previous_;
            return 2;
        }
        return 0;
    }
    void rotate_now() {
        std::lock_guard lock(m_);
        rotate();
    }

private:
    void rotate() {
        ticket_key next;
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&next), sizeof next) != 1) return;  // keep the old
        if (ready_) {
            previous_ = current_;
            has_previous_ = true;
        }
        current_ = next;
        OPENSSL_cleanse(&next, sizeof next);
        made_ = clock::now();
        ready_ = true;
    }

    std::mutex m_;
    ticket_key current_{}, previous_{};
    bool ready_ = false, has_previous_ = false;
    clock::time_point made_;
};

key_ring& ring() {
    static key_ring r;
    return r;
}

const EVP_CIPHER* cipher() {
    static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);  // once, not per ticket
    return c;
}

// SSL_CTX_set_tlsext_ticket_key_evp_cb: 1 done, 2 done and renew the ticket, 0 no key (a full
// handshake; on encryption: no ticket), -1 error.
int on_ticket(SSL*, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* ctx, EVP_MAC_CTX* mac, int enc) {
    ticket_key k;
    int found = 1;
    if (enc) {
        if (!ring().current(k) || !cipher()) return 0;
        std::memcpy(name, k.name, sizeof k.name);
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(cipher())) != 1) return -1;
        if (EVP_EncryptInit_ex2(ctx, cipher(), k.aes, iv, nullptr) != 1) return -1;
    } else {
        found = ring().find(name, k);
        if (found == 0 || !cipher()) return 0;
        if (EVP_DecryptInit_ex2(ctx, cipher(), k.aes, iv, nullptr) != 1) return -1;
    }
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof k.hmac),
                           OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    int ok = EVP_MAC_CTX_set_params(mac, params);
    OPENSSL_cleanse(&k, sizeof k);
    return ok == 1 ? found : -1;
}

}  // namespace

void use_process_ticket_keys(SSL_CTX* ctx) { SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket); }

void rotate_ticket_keys_for_test() { ring().rotate_now(); }

}  // namespace wsgated::net
