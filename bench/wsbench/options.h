// options: wsbench's command line (README.md is the contract; bench/run calls it). One table
// of options in options.cpp gives parsing, defaults and --help together.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace wsbench {

enum class mode { echo, idle, storm, tls_storm, deflate, fanout, http };

struct options {
    mode m = mode::echo;
    std::string mode_name;
    std::string url;
    int connections = 0;      // 0 = the mode's default (applied by parse_options)
    std::size_t size = 0;     // 0 = the mode's default
    int depth = 1;
    int batch = 1;            // refill only when this many are owed (≤ depth)
    int threads = 1;
    std::vector<int> pin;     // CPUs; thread i gets pin[i % size]
    double warmup = 2;
    double duration = 10;
    double drain = 2;
    double handshake_timeout = 5;
    int connect_concurrency = 256;
    std::string source = "auto";
    std::vector<std::string> headers;
    std::string tls_version;  // "", "1.2", "1.3"
    std::string publish_http;
    std::string publish_ws;
    std::string token;
    std::vector<double> rates{10};
    bool quiet = false;
};

// Parses argv. On a bad command line returns false with the reason in `err`; on --help
// returns false with `err` empty after printing the option list.
bool parse_options(int argc, char** argv, options& out, std::string& err);

}  // namespace wsbench
