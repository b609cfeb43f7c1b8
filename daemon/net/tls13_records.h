// tls13_records: a TLS 1.3 connection's record protection after its handshake (RFC 8446 §5,
// §4.6.3, §7.2), in place of OpenSSL's SSL object, which net/tls_engine frees once the
// handshake is done.
//
// Why: OpenSSL 3.0 keeps ~14 KB per connection after a handshake (the SSL object, two cipher
// contexts, the session, the key shares: docs/performance.md), most of an idle wss://
// connection. What record protection needs is two traffic secrets, their keys and nonces and
// two sequence numbers: this object, a few hundred bytes. The AEAD itself stays OpenSSL's (its
// EVP interface, with the algorithms fetched once for the process); only the framing around
// it is ours. The cipher contexts (~1 KB each) are made on first use and dropped by release()
// when the connection is quiet.
//
// Handles: application data, alerts (close_notify, user_canceled; any other ends the
// connection), KeyUpdate both ways (answered before our next data, as OpenSSL does; ours every
// 2^24 records, under AES-GCM's limit, §5.5), and refuses everything else a client may not send
// after its Finished with the alert RFC 8446 names. Sans-I/O: the engine hands in ciphertext
// and takes the records to send. Used on one thread at a time (the connection's worker).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace wsgated::net {

class tls13_records {
public:
    struct suite;  // the negotiated cipher suite's algorithms (tls13_records.cpp)

    // For a server after its handshake: the suite's IANA id (0x1301–0x1303), the client's and
    // the server's application traffic secrets (as the key log gives them), and how many records
    // were already sent under the server's. Null for a suite it does not know (the engine then
    // keeps OpenSSL).
    static std::unique_ptr<tls13_records> make(std::uint16_t suite_id, std::span<const unsigned char> client_secret,
                                               std::span<const unsigned char> server_secret,
                                               std::uint64_t records_sent);
    explicit tls13_records(const suite& s) : suite_(&s) {}
    ~tls13_records();
    tls13_records(const tls13_records&) = delete;
    tls13_records& operator=(const tls13_records&) = delete;

    static constexpr std::size_t header_size = 5;
    static constexpr std::size_t max_plain = 16 * 1024;                     // 2^14
    static constexpr std::size_t max_cipher = max_plain + 256;              // §5.2
    static constexpr std::size_t overhead = header_size + 1 + 16;           // header, type, tag

    // The length of the whole record at the front of `in`, or 0 if `in` holds only its first part.
    static std::size_t record_size(std::span<const char> in);

    enum class opened {
        data,     // `size` bytes of application data, written into `out`
        nothing,  // a KeyUpdate, a user_canceled, an empty record: read the next
        closed,   // the peer's close_notify
        failed,   // reason() says why; our alert is in `answers`
    };
    struct result {
        opened what = opened::nothing;
        std::size_t size = 0;
    };
    // Decrypts the one whole record `record` (record_size() bytes) into `out`, which has room for
    // record.size() - overhead + 1 bytes. A fatal alert of ours goes to the end of `answers`.
    result open(std::span<const char> record, char* out, std::vector<char>& answers);

    // Records for `plain` (any length, 0 included: nothing) at the end of `out`; a KeyUpdate
    // due (requested by the peer, or our own) goes first. False if encryption failed.
    bool seal(std::span<const char> plain, std::vector<char>& out);
    // Our close_notify at the end of `out`.
    void close_notify(std::vector<char>& out) { alert(1, 0, out); }
    // Our own KeyUpdate (update_not_requested) before the next record we write.
    void update_keys() { update_due_ = true; }

    // A quiet connection drops its cipher contexts; the next record makes them again.
    void release();
    const std::string& reason() const { return why_; }

    // One direction's keys (public for the .cpp's helpers; nothing outside uses it).
    struct direction {
        std::array<unsigned char, 48> secret{};
        std::array<unsigned char, 32> key{};
        std::array<unsigned char, 12> iv{};
        std::uint64_t seq = 0;
        EVP_CIPHER_CTX* ctx = nullptr;  // keyed with `key`; null while the connection is quiet
    };

private:
    result fail(std::uint8_t alert_desc, const char* why, std::vector<char>& answers);
    result on_alert(std::span<const char> body, std::vector<char>& answers);
    result on_handshake(std::span<const char> body, std::vector<char>& answers);
    void alert(std::uint8_t level, std::uint8_t desc, std::vector<char>& out);
    void write_record(std::uint8_t type, std::span<const char> body, std::vector<char>& out);
    void write_key_update(std::vector<char>& out);

    const suite* suite_;
    direction read_, write_;
    std::array<unsigned char, 5> partial_{};  // a KeyUpdate split across records, so far
    std::uint8_t partial_size_ = 0;
    std::uint8_t idle_records_ = 0;           // records in a row that carried no data (bounded)
    bool answer_due_ = false;                 // the peer asked for our KeyUpdate
    bool update_due_ = false;                 // ours: our sequence number reached the limit, or asked
    bool failed_ = false;
    std::string why_;
};

}  // namespace wsgated::net
