#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

namespace wsbench {
namespace {

using setter = std::function<bool(options&, const std::string&)>;

struct option_def {
    const char* name;   // long name without "--"
    char short_name;    // 0 = none
    bool takes_value;
    const char* doc;
    setter set;
};

bool to_int(const std::string& s, int lo, int hi, int& out) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end || v < lo || v > hi) return false;
    out = int(v);
    return true;
}

bool to_seconds(const std::string& s, double lo, double& out) {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end || !(v >= lo) || v > 86400) return false;
    out = v;
    return true;
}

// "32", "1k", "1KiB", "64KiB", "1m", "1MiB": 1024-based.
bool to_size(const std::string& s, std::size_t& out) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    std::string_view suffix(end);
    unsigned long long mul = 1;
    if (suffix == "k" || suffix == "K" || suffix == "KiB") mul = 1024;
    else if (suffix == "m" || suffix == "M" || suffix == "MiB") mul = 1024 * 1024;
    else if (!suffix.empty()) return false;
    if (s.empty() || end == s.c_str() || v * mul > (64ull << 20)) return false;
    out = std::size_t(v * mul);
    return true;
}

// "1", "0,1", "2-3", "0,2-3"
bool to_cpu_list(const std::string& s, std::vector<int>& out) {
    out.clear();
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t j = s.find(',', i);
        std::string part = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
        std::size_t dash = part.find('-');
        int a = 0, b = 0;
        if (!to_int(part.substr(0, dash), 0, 4095, a)) return false;
        b = a;
        if (dash != std::string::npos && !to_int(part.substr(dash + 1), a, 4095, b)) return false;
        for (int c = a; c <= b; ++c) out.push_back(c);
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return !out.empty();
}

bool to_rates(const std::string& s, std::vector<double>& out) {
    out.clear();
    std::size_t i = 0;
    while (i <= s.size()) {
        std::size_t j = s.find(',', i);
        double r = 0;
        if (!to_seconds(s.substr(i, j == std::string::npos ? std::string::npos : j - i), 0.001, r))
            return false;
        out.push_back(r);
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return !out.empty();
}

const std::vector<option_def>& table() {
    static const std::vector<option_def> t = {
        {"connections", 'c', true, "connections (storm: loops; fanout: subscribers)",
         [](options& o, const std::string& v) { return to_int(v, 1, 1'000'000, o.connections); }},
        {"size", 's', true, "message payload bytes (k/KiB, m/MiB suffixes)",
         [](options& o, const std::string& v) { return to_size(v, o.size); }},
        {"depth", 'd', true, "messages in flight per connection",
         [](options& o, const std::string& v) { return to_int(v, 1, 4096, o.depth); }},
        {"batch", 0, true, "send only when this many messages are owed (1..depth)",
         [](options& o, const std::string& v) { return to_int(v, 1, 4096, o.batch); }},
        {"threads", 't', true, "epoll loops, one thread each",
         [](options& o, const std::string& v) { return to_int(v, 1, 256, o.threads); }},
        {"pin", 0, true, "CPU list for the threads (1 | 0,1 | 2-3)",
         [](options& o, const std::string& v) { return to_cpu_list(v, o.pin); }},
        {"warmup", 0, true, "seconds of load before measuring",
         [](options& o, const std::string& v) { return to_seconds(v, 0, o.warmup); }},
        {"duration", 0, true, "measured seconds (idle: hold; fanout: per rate step)",
         [](options& o, const std::string& v) { return to_seconds(v, 0.01, o.duration); }},
        {"drain", 0, true, "at most this long to collect replies after measuring",
         [](options& o, const std::string& v) { return to_seconds(v, 0, o.drain); }},
        {"handshake-timeout", 0, true, "seconds for connect + TLS + upgrade",
         [](options& o, const std::string& v) { return to_seconds(v, 0.01, o.handshake_timeout); }},
        {"connect-concurrency", 0, true, "connections connecting at once",
         [](options& o, const std::string& v) { return to_int(v, 1, 100'000, o.connect_concurrency); }},
        {"source", 0, true, "source addresses: auto | none | A.B.C.D-A.B.C.E",
         [](options& o, const std::string& v) { o.source = v; return !v.empty(); }},
        {"header", 0, true, "extra request header \"Name: value\" (repeatable)",
         [](options& o, const std::string& v) {
             o.headers.push_back(v);
             return v.find(':') != std::string::npos && v.find_first_of("\r\n") == std::string::npos;
         }},
        {"tls-version", 0, true, "1.2 | 1.3",
         [](options& o, const std::string& v) { o.tls_version = v; return v == "1.2" || v == "1.3"; }},
        {"publish-http", 0, true, "fanout: publish by POST to this URL",
         [](options& o, const std::string& v) { o.publish_http = v; return true; }},
        {"publish-ws", 0, true, "fanout: publish by a frame on a WebSocket to this URL",
         [](options& o, const std::string& v) { o.publish_ws = v; return true; }},
        {"token", 0, true, "fanout: bearer token for --publish-http (else $WSBENCH_TOKEN)",
         [](options& o, const std::string& v) { o.token = v; return true; }},
        {"rates", 0, true, "fanout: publishes per second per step (10,50,100)",
         [](options& o, const std::string& v) { return to_rates(v, o.rates); }},
        {"quiet", 0, false, "no progress lines on stderr",
         [](options& o, const std::string&) { o.quiet = true; return true; }},
    };
    return t;
}

void print_help() {
    std::fprintf(stderr,
                 "usage: wsbench MODE URL [OPTIONS]\n"
                 "  MODE: echo | idle | storm | tls-storm | deflate | fanout | http\n"
                 "  URL:  ws://HOST:PORT/PATH | wss://… | tcp://HOST:PORT (raw echo) | http://… (http)\n");
    for (const auto& d : table()) {
        char name[64];
        std::snprintf(name, sizeof name, "--%s%s%c%s", d.name, d.short_name ? ", -" : "",
                      d.short_name ? d.short_name : ' ', d.takes_value ? " V" : "");
        std::fprintf(stderr, "  %-28s %s\n", name, d.doc);
    }
    std::fprintf(stderr, "JSON on stdout; see bench/wsbench/README.md.\n");
}

bool set_mode(options& o, const std::string& name) {
    static const std::pair<const char*, mode> modes[] = {
        {"echo", mode::echo},       {"idle", mode::idle},       {"storm", mode::storm},
        {"tls-storm", mode::tls_storm}, {"deflate", mode::deflate}, {"fanout", mode::fanout},
        {"http", mode::http}};
    for (const auto& [n, m] : modes)
        if (name == n) {
            o.m = m;
            o.mode_name = n;
            return true;
        }
    return false;
}

const option_def* find_def(std::string_view arg) {
    for (const auto& d : table()) {
        if (arg.size() > 2 && arg.substr(0, 2) == "--" && arg.substr(2) == d.name) return &d;
        if (arg.size() == 2 && arg[0] == '-' && d.short_name && arg[1] == d.short_name) return &d;
    }
    return nullptr;
}

void apply_defaults(options& o) {
    if (o.connections == 0) {
        switch (o.m) {
        case mode::idle: o.connections = 1000; break;
        case mode::storm:
        case mode::tls_storm: o.connections = 16; break;
        default: o.connections = 100; break;
        }
    }
    if (o.size == 0) o.size = o.m == mode::fanout ? 64 : 32;
    if (o.token.empty())
        if (const char* t = std::getenv("WSBENCH_TOKEN")) o.token = t;
}

bool check(const options& o, std::string& err) {
    if (o.size < 8 && o.m != mode::http) err = "--size must be at least 8 (the send timestamp)";
    else if (o.batch > o.depth) err = "--batch must not exceed --depth";
    else if (o.m == mode::fanout && o.size < 16) err = "fanout: --size must be at least 16";
    else if (o.m == mode::fanout && o.publish_http.empty() == o.publish_ws.empty())
        err = "fanout needs exactly one of --publish-http and --publish-ws";
    return err.empty();
}

}  // namespace

bool parse_options(int argc, char** argv, options& o, std::string& err) {
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            print_help();
            err.clear();
            return false;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            positional.push_back(arg);
            continue;
        }
        std::string value;
        std::size_t eq = arg.find('=');
        bool inline_value = arg.rfind("--", 0) == 0 && eq != std::string::npos;
        if (inline_value) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        const option_def* d = find_def(arg);
        if (!d) return err = "unknown option " + arg, false;
        if (d->takes_value && !inline_value) {
            if (i + 1 >= argc) return err = arg + " needs a value", false;
            value = argv[++i];
        }
        if (!d->set(o, value)) return err = "bad value for " + arg + ": " + value, false;
    }
    if (positional.size() != 2) return err = "expected MODE URL (try --help)", false;
    if (!set_mode(o, positional[0])) return err = "unknown mode " + positional[0], false;
    o.url = positional[1];
    apply_defaults(o);
    return check(o, err);
}

}  // namespace wsbench
