// tls_context: builds the OpenSSL server context for a TLS listener from its config.
//
// Called by config::loader, so that a missing, unreadable or mismatched certificate/key is a
// config error naming the key, and by nothing on the hot path. The context is immutable once
// built and shared (read-only) by every worker's TLS streams.
#pragma once

#include <memory>
#include <string>

#include <boost/system/result.hpp>

namespace boost::asio::ssl {
class context;
}

namespace wsgated::net {

struct tls_files {
    std::string cert_file;
    std::string key_file;
    std::string min_version;  // "1.2" | "1.3"
};

// On failure: a reason fit for "key.path: reason" ("cannot read cert /x: No such file…",
// "key does not match certificate", …), in the error's message.
struct tls_result {
    std::shared_ptr<boost::asio::ssl::context> context;
    std::string error;  // empty on success
    std::string error_key;  // "cert" | "key" | "min_version": which key the error is about
};

tls_result make_tls_context(const tls_files& files);

}  // namespace wsgated::net
