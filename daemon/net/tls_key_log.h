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

    bool complete() const { return client_size_ && server_size_ && header_have_ == 0; }  // at a record's end
    std::array<unsigned char, 48> const& client() const { return client_; }
    std::array<unsigned char, 48> const& server() const { return server_; }
    std::size_t secret_size() const { return client_size_; }
    bool same_sizes() const { return client_size_ == server_size_; }
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
