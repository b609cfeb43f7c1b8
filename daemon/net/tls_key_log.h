// tls_key_log: what OpenSSL's key log tells a TLS 1.3 server connection during its handshake:
// the client's and the server's application traffic secrets, and how many records OpenSSL
// sent under the server's (its session ticket). net/tls_engine reads them when the handshake
// ends, to hand the connection to net/tls13_records, and drops this then.
//
// The count comes from the record headers OpenSSL writes after the server's secret is logged:
// OpenSSL logs it as it switches its writes to that key, once its Finished went out.
// Owned by the connection's engine; on its worker only. The secrets are wiped on destruction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wsgated::net {

class tls_key_log {
public:
    tls_key_log() = default;
    ~tls_key_log();
    tls_key_log(const tls_key_log&) = delete;
    tls_key_log& operator=(const tls_key_log&) = delete;

    // One line of the key log ("CLIENT_TRAFFIC_SECRET_0 <client random> <secret>", NSS's
    // format, in hex); other labels are ignored.
    void on_line(std::string_view line);
    // Bytes OpenSSL wrote: their records are counted once the server's secret is known.
    void on_written(const char* p, std::size_t n);

    // Both secrets logged, and OpenSSL's writes at a record's end. (Their sizes are the suite's
    // hash's: tls13_records::make checks them.)
    bool complete() const { return client_size_ && server_size_ && header_have_ == 0; }
    std::span<const unsigned char> client() const { return {client_.data(), client_size_}; }
    std::span<const unsigned char> server() const { return {server_.data(), server_size_}; }
    std::uint64_t records_sent() const { return records_; }

private:
    std::array<unsigned char, 48> client_{}, server_{};
    std::size_t client_size_ = 0, server_size_ = 0;
    bool counting_ = false;
    std::uint64_t records_ = 0;
    std::array<unsigned char, 5> header_{};
    std::size_t header_have_ = 0, body_left_ = 0;
};

}  // namespace wsgated::net
