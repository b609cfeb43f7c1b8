// tls_key_log: see tls_key_log.h.
#include "net/tls_key_log.h"
#include "text/hex.h"

#include <algorithm>
#include <cstring>

#include <openssl/crypto.h>

namespace wsgated::net {
tls_key_log::~tls_key_log() {
    OPENSSL_cleanse(client_.data(), client_.size());
    OPENSSL_cleanse(server_.data(), server_.size());
}

void tls_key_log::on_line(std::string_view line) {
    bool is_client = line.starts_with("CLIENT_TRAFFIC_SECRET_0 ");
    if (!is_client && !line.starts_with("SERVER_TRAFFIC_SECRET_0 ")) return;
    auto hex = line.substr(line.rfind(' ') + 1);
    auto& to = is_client ? client_ : server_;
    auto& size = is_client ? client_size_ : server_size_;
    size = 0;
    if (hex.size() % 2 || hex.size() / 2 > to.size()) return;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = text::hex_value(hex[i]), lo = text::hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            size = 0;
            return;
        }
        to[i / 2] = static_cast<unsigned char>(hi << 4 | lo);
    }
    size = hex.size() / 2;
    if (!is_client) counting_ = true;  // every record written from now on is under this key
}

void tls_key_log::on_written(const char* p, std::size_t n) {
    while (counting_ && n > 0) {
        std::size_t take = 0;
        if (header_have_ < header_.size()) {
            take = std::min(header_.size() - header_have_, n);
            std::memcpy(header_.data() + header_have_, p, take);
            header_have_ += take;
            if (header_have_ == header_.size()) {
                ++records_;
                body_left_ = std::size_t{header_[3]} << 8 | header_[4];
                if (body_left_ == 0) header_have_ = 0;
            }
        } else {
            take = std::min(body_left_, n);
            body_left_ -= take;
            if (body_left_ == 0) header_have_ = 0;
        }
        p += take;
        n -= take;
    }
}

}  // namespace wsgated::net
