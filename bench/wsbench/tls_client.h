// tls_client: the OpenSSL client context for wss:// runs. No session cache and no tickets,
// so every connection pays a full handshake (tls-storm measures exactly that); no
// certificate verification (a benchmark on loopback, against throw-away certificates).
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace wsbench {

// version: "", "1.2" or "1.3". nullptr with the reason in `err` on failure.
SSL_CTX* make_tls_client(const std::string& version, std::string& err);

}  // namespace wsbench
