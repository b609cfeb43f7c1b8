// tls13_records: see tls13_records.h.
#include "net/tls13_records.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace wsgated::net {

struct tls13_records::suite {
    std::uint16_t id;
    const char* cipher_name;
    const char* md_name;
    std::size_t key_size;
    std::size_t hash_size;
    EVP_CIPHER* cipher = nullptr;  // fetched once for the process: no provider look-up per record
    EVP_MD* md = nullptr;
};

namespace {

using direction = tls13_records::direction;

constexpr std::uint8_t change_cipher_spec = 20, alert_type = 21, handshake_type = 22, data_type = 23;
constexpr std::uint8_t key_update_msg = 24;
// Alert descriptions (RFC 8446 §6).
constexpr std::uint8_t unexpected_message = 10, bad_record_mac = 20, record_overflow = 22, illegal_parameter = 47,
                       decode_error = 50, internal_error = 80, user_canceled = 90;
constexpr std::size_t tag_size = 16;
// AES-GCM may protect 2^24.5 full records per key (§5.5): ours are renewed well before.
constexpr std::uint64_t records_per_key = std::uint64_t{1} << 24;
// Records in a row that carry no data (empty, KeyUpdate, user_canceled): each costs a
// decryption, a flood of them would cost us CPU for nothing (OpenSSL allows 32 empty ones).
constexpr std::uint8_t max_idle_records = 32;

const tls13_records::suite* find_suite(std::uint16_t id) {
    static tls13_records::suite suites[] = {
        {0x1301, "AES-128-GCM", "SHA256", 16, 32},
        {0x1302, "AES-256-GCM", "SHA384", 32, 48},
        {0x1303, "ChaCha20-Poly1305", "SHA256", 32, 32},
    };
    static const bool fetched = [] {
        for (auto& s : suites) {
            s.cipher = EVP_CIPHER_fetch(nullptr, s.cipher_name, nullptr);
            s.md = EVP_MD_fetch(nullptr, s.md_name, nullptr);
        }
        return true;
    }();
    (void)fetched;
    for (auto& s : suites)
        if (s.id == id && s.cipher && s.md) return &s;
    return nullptr;
}

// HKDF-Expand-Label(secret, label, "", size) (§7.1), for a size of at most one hash: one HMAC.
bool expand_label(const tls13_records::suite& s, const unsigned char* secret, std::string_view label,
                  unsigned char* out, std::size_t size) {
    unsigned char info[64];
    std::size_t n = 0;
    info[n++] = static_cast<unsigned char>(size >> 8);
    info[n++] = static_cast<unsigned char>(size);
    info[n++] = static_cast<unsigned char>(6 + label.size());
    std::memcpy(info + n, "tls13 ", 6);
    std::memcpy(info + n + 6, label.data(), label.size());
    n += 6 + label.size();
    info[n++] = 0;  // no context
    info[n++] = 1;  // HKDF-Expand's counter: T(1)
    unsigned char t[EVP_MAX_MD_SIZE];
    unsigned int t_size = 0;
    bool ok = HMAC(s.md, secret, static_cast<int>(s.hash_size), info, n, t, &t_size) && t_size >= size;
    if (ok) std::memcpy(out, t, size);
    OPENSSL_cleanse(t, sizeof t);
    return ok;
}

// A direction's key and nonce base from its secret; its sequence starts again (§7.3).
bool derive(const tls13_records::suite& s, direction& d) {
    EVP_CIPHER_CTX_free(d.ctx);
    d.ctx = nullptr;
    d.seq = 0;
    return expand_label(s, d.secret.data(), "key", d.key.data(), s.key_size) &&
           expand_label(s, d.secret.data(), "iv", d.iv.data(), d.iv.size());
}

// The next generation of a direction's secret (§7.2), then its keys.
bool next_generation(const tls13_records::suite& s, direction& d) {
    unsigned char next[48];
    bool ok = expand_label(s, d.secret.data(), "traffic upd", next, s.hash_size);
    std::memcpy(d.secret.data(), next, s.hash_size);
    OPENSSL_cleanse(next, sizeof next);
    return ok && derive(s, d);
}

// The per-record nonce: the sequence number, left-padded, XORed into the nonce base (§5.3).
std::array<unsigned char, 12> nonce(const direction& d) {
    auto n = d.iv;
    for (int i = 0; i < 8; ++i) n[11 - i] ^= static_cast<unsigned char>(d.seq >> (8 * i));
    return n;
}

// The direction's cipher context, keyed and set for this record's nonce; null on failure.
EVP_CIPHER_CTX* keyed(const tls13_records::suite& s, direction& d, int encrypt) {
    if (!d.ctx) {
        d.ctx = EVP_CIPHER_CTX_new();
        if (!d.ctx || EVP_CipherInit_ex(d.ctx, s.cipher, nullptr, d.key.data(), nullptr, encrypt) != 1) {
            EVP_CIPHER_CTX_free(d.ctx);
            d.ctx = nullptr;
            return nullptr;
        }
    }
    auto n = nonce(d);
    return EVP_CipherInit_ex(d.ctx, nullptr, nullptr, nullptr, n.data(), encrypt) == 1 ? d.ctx : nullptr;
}

auto* bytes(char* p) { return reinterpret_cast<unsigned char*>(p); }
auto* bytes(const char* p) { return reinterpret_cast<const unsigned char*>(p); }

}  // namespace

std::unique_ptr<tls13_records> tls13_records::make(std::uint16_t suite_id, std::span<const unsigned char> client_secret,
                                                   std::span<const unsigned char> server_secret,
                                                   std::uint64_t records_sent) {
    const suite* s = find_suite(suite_id);
    if (!s || client_secret.size() != s->hash_size || server_secret.size() != s->hash_size) return nullptr;
    auto r = std::make_unique<tls13_records>(*s);
    std::memcpy(r->read_.secret.data(), client_secret.data(), s->hash_size);
    std::memcpy(r->write_.secret.data(), server_secret.data(), s->hash_size);
    if (!derive(*s, r->read_) || !derive(*s, r->write_)) return nullptr;
    r->write_.seq = records_sent;
    return r;
}

tls13_records::~tls13_records() {
    release();
    OPENSSL_cleanse(&read_, sizeof read_);
    OPENSSL_cleanse(&write_, sizeof write_);
}

void tls13_records::release() {
    EVP_CIPHER_CTX_free(read_.ctx);
    EVP_CIPHER_CTX_free(write_.ctx);
    read_.ctx = write_.ctx = nullptr;
}

std::size_t tls13_records::record_size(std::span<const char> in) {
    if (in.size() < header_size) return 0;
    std::size_t length = std::size_t{bytes(in.data())[3]} << 8 | bytes(in.data())[4];
    // A record open() refuses from its header alone is "whole" at its header: no waiting for
    // (up to 64 KiB of) a body that cannot be read.
    if (bytes(in.data())[0] != data_type || length > max_cipher) return header_size;
    return in.size() >= header_size + length ? header_size + length : 0;
}

tls13_records::result tls13_records::open(std::span<const char> record, char* out, std::vector<char>& answers) {
    if (failed_) return {opened::failed};
    const unsigned char* h = bytes(record.data());
    std::size_t length = std::size_t{h[3]} << 8 | h[4];
    if (h[0] == change_cipher_spec) return fail(unexpected_message, "tls: change_cipher_spec after the handshake", answers);
    if (h[0] != data_type) return fail(unexpected_message, "tls: unprotected record after the handshake", answers);
    if (length > max_cipher) return fail(record_overflow, "tls: record overflow", answers);
    if (length < tag_size) return fail(bad_record_mac, "tls: record too short for its tag", answers);
    std::size_t n = length - tag_size;
    EVP_CIPHER_CTX* ctx = keyed(*suite_, read_, 0);
    unsigned char tag[tag_size];
    std::memcpy(tag, h + header_size + n, tag_size);
    int got = 0;
    bool ok = ctx && EVP_CipherUpdate(ctx, nullptr, &got, h, header_size) == 1 &&  // the header is the AAD
              (n == 0 || EVP_CipherUpdate(ctx, bytes(out), &got, h + header_size, static_cast<int>(n)) == 1) &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_size, tag) == 1 &&
              EVP_CipherFinal_ex(ctx, bytes(out) + n, &got) == 1;
    if (!ok) return fail(bad_record_mac, "tls: bad record mac", answers);
    if (++read_.seq == 0) return fail(internal_error, "tls: sequence number exhausted", answers);
    while (n > 0 && out[n - 1] == 0) --n;  // the padding (§5.4)
    if (n == 0) return fail(unexpected_message, "tls: record without a content type", answers);
    std::uint8_t type = static_cast<std::uint8_t>(out[--n]);
    if (n > max_plain) return fail(record_overflow, "tls: record overflow", answers);
    if (partial_size_ && type != handshake_type)
        return fail(unexpected_message, "tls: a record inside a split KeyUpdate", answers);
    if (type == alert_type) return on_alert({out, n}, answers);
    if (type == handshake_type) return on_handshake({out, n}, answers);
    if (type != data_type) return fail(unexpected_message, "tls: unexpected record type", answers);
    if (n > 0) {
        idle_records_ = 0;
        return {opened::data, n};
    }
    if (++idle_records_ > max_idle_records) return fail(unexpected_message, "tls: too many empty records", answers);
    return {opened::nothing};
}

tls13_records::result tls13_records::on_alert(std::span<const char> body, std::vector<char>& answers) {
    if (body.size() != 2) return fail(decode_error, "tls: malformed alert", answers);
    std::uint8_t desc = static_cast<std::uint8_t>(body[1]);
    if (desc == 0) return {opened::closed};
    if (desc == user_canceled) {
        if (++idle_records_ > max_idle_records) return fail(unexpected_message, "tls: too many alerts", answers);
        return {opened::nothing};  // a close_notify should follow (§6.1)
    }
    failed_ = true;  // the peer's fatal alert: none of ours back
    why_ = "tls: the peer sent alert " + std::to_string(desc);
    return {opened::failed};
}

// The only handshake message a client may send after its Finished here is a KeyUpdate (we ask
// for no certificate after the handshake): anything else is unexpected_message (§4.6).
tls13_records::result tls13_records::on_handshake(std::span<const char> body, std::vector<char>& answers) {
    if (body.empty()) return fail(unexpected_message, "tls: empty handshake record", answers);
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (partial_size_ == 0 && static_cast<std::uint8_t>(body[i]) != key_update_msg)
            return fail(unexpected_message, "tls: handshake message after the handshake", answers);
        partial_[partial_size_++] = static_cast<unsigned char>(body[i]);
        if (partial_size_ == 4 && !(partial_[1] == 0 && partial_[2] == 0 && partial_[3] == 1))
            return fail(decode_error, "tls: malformed KeyUpdate", answers);
        if (partial_size_ < 5) continue;
        if (partial_[4] > 1) return fail(illegal_parameter, "tls: KeyUpdate with an invalid request", answers);
        // A key change must end its record (§5.1): what follows was sealed under the old key.
        if (i + 1 != body.size()) return fail(unexpected_message, "tls: KeyUpdate not at the end of its record", answers);
        partial_size_ = 0;
        answer_due_ = answer_due_ || partial_[4] == 1;
        if (!next_generation(*suite_, read_)) return fail(internal_error, "tls: key derivation failed", answers);
    }
    if (++idle_records_ > max_idle_records) return fail(unexpected_message, "tls: too many KeyUpdates", answers);
    return {opened::nothing};
}

tls13_records::result tls13_records::fail(std::uint8_t alert_desc, const char* why, std::vector<char>& answers) {
    failed_ = true;
    why_ = why;
    alert(2, alert_desc, answers);
    return {opened::failed};
}

bool tls13_records::seal(std::span<const char> plain, std::vector<char>& out) {
    while (!plain.empty() && !failed_) {
        if (answer_due_ || update_due_ || write_.seq >= records_per_key) write_key_update(out);
        auto chunk = plain.first(std::min(plain.size(), max_plain));
        write_record(data_type, chunk, out);
        plain = plain.subspan(chunk.size());
    }
    return !failed_;
}

void tls13_records::alert(std::uint8_t level, std::uint8_t desc, std::vector<char>& out) {
    const char body[2] = {static_cast<char>(level), static_cast<char>(desc)};
    write_record(alert_type, body, out);
}

// update_not_requested: a request of ours is never needed, the peer renews its own keys.
void tls13_records::write_key_update(std::vector<char>& out) {
    static constexpr char body[5] = {key_update_msg, 0, 0, 1, 0};
    write_record(handshake_type, body, out);
    answer_due_ = update_due_ = false;
    if (!next_generation(*suite_, write_)) {
        failed_ = true;
        why_ = "tls: key derivation failed";
    }
}

// One record: header, then `body` and its content type sealed together, then the tag (§5.2).
void tls13_records::write_record(std::uint8_t type, std::span<const char> body, std::vector<char>& out) {
    if (failed_ && type != alert_type) return;
    std::size_t length = body.size() + 1 + tag_size;
    std::size_t at = out.size();
    out.resize(at + header_size + length);
    unsigned char* p = bytes(out.data() + at);
    p[0] = data_type;
    p[1] = p[2] = 3;
    p[3] = static_cast<unsigned char>(length >> 8);
    p[4] = static_cast<unsigned char>(length);
    unsigned char* sealed = p + header_size;
    EVP_CIPHER_CTX* ctx = keyed(*suite_, write_, 1);
    int got = 0;
    bool ok = ctx && EVP_CipherUpdate(ctx, nullptr, &got, p, header_size) == 1 &&
              (body.empty() ||
               EVP_CipherUpdate(ctx, sealed, &got, bytes(body.data()), static_cast<int>(body.size())) == 1) &&
              EVP_CipherUpdate(ctx, sealed + body.size(), &got, &type, 1) == 1 &&
              EVP_CipherFinal_ex(ctx, sealed + body.size() + 1, &got) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, tag_size, sealed + body.size() + 1) == 1;
    ++write_.seq;
    if (ok) return;
    out.resize(at);  // nothing half-made goes out
    failed_ = true;
    why_ = "tls: encryption failed";
}

}  // namespace wsgated::net
