// run_context: what every worker thread of one run shares: the options, the target, the TLS
// context and request bytes (immutable once the threads start), and a few atomics the main
// thread uses to steer the phases (written by it, read once per event-loop round).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <string>

#include "options.h"
#include "stats.h"
#include "target.h"

namespace wsbench {

enum class phase : int { run, close };

struct run_context {
    const options& opt;
    target tgt;
    SSL_CTX* tls = nullptr;
    std::string upgrade;  // the upgrade request every connection sends
    std::int64_t t_start = 0;

    std::atomic<std::int64_t> measure_start{LLONG_MAX};
    std::atomic<std::int64_t> measure_end{LLONG_MAX};
    std::atomic<phase> ph{phase::run};
    std::atomic<int> connecting{0};  // connections between socket() and open, all workers
    std::atomic<bool> noted[err_kinds] = {};

    explicit run_context(const options& o) : opt(o) {}
};

}  // namespace wsbench
