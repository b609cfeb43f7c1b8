// main: flags → config::load → server::run, nothing more (SPEC §1).
//
// Exit status: 0 clean shutdown (or --check passed), 1 bad config or a listener that cannot
// bind, 2 bad flags.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "config/config_diff.h"
#include "loader/loader.h"
#include "server/logging.h"
#include "server/server.h"

namespace {

constexpr const char* usage =
    "usage: wsgated --config FILE [--check [--diff OLD]]\n"
    "       wsgated --version | --help\n"
    "\n"
    "  -c, --config FILE  the gateway configuration (YAML); default: $WSGATED_CONFIG\n"
    "      --check        validate the configuration, print every error, exit 0 or 1\n"
    "      --diff OLD     with --check: also print what a reload from OLD to FILE would change\n"
    "  -v, --version      print the version and exit\n"
    "  -h, --help         print this help and exit\n"
    "\n"
    "Exit status: 0 after a clean shutdown (or a passing --check), 1 for a bad configuration or\n"
    "an address that cannot be listened on, 2 for bad flags.\n"
    "Signals: SIGTERM/SIGINT close every connection (1001) and exit; SIGHUP reloads the file.\n"
    "Environment: WSGATED_CONFIG (the file, when --config is not given); ${VAR} in the file is\n"
    "expanded from the environment.\n"
    "\n"
    "Documentation (docs/ in the source tree):\n"
    "  configuration.md  every key, its default and bounds\n"
    "  operations.md     signals, reload, logs, systemd, Docker\n"
    "  protocol.md       what clients get before and after the upgrade, close codes\n"
    "  backends.md       the HTTP and stream backends\n"
    "  control-api.md    /v1: how backends reach clients and rooms\n"
    "  auth.md           auth hooks and JWT on the handshake\n"
    "  metrics.md        /metrics\n"
    "  cluster.md        several nodes sharing one Redis\n"
    "  reliability.md    guarantees, failures, what is counted\n";

struct options {
    std::string config;
    std::string diff_from;  // --diff OLD
    bool check = false;
};

int bad_flags(const std::string& why) {
    std::fprintf(stderr, "wsgated: %s\n%s", why.c_str(), usage);
    return 2;
}

// Returns -1 to go on, or the exit status.
int parse_flags(int argc, char** argv, options& opt) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") { std::fputs(usage, stdout); return 0; }
        if (a == "-v" || a == "--version") { std::puts("wsgated " WSGATED_VERSION); return 0; }
        if (a == "--check") { opt.check = true; continue; }
        if (a == "--diff") {
            if (i + 1 >= argc) return bad_flags("--diff needs the file to compare with");
            opt.diff_from = argv[++i];
            continue;
        }
        if (a == "-c" || a == "--config") {
            if (i + 1 >= argc) return bad_flags(std::string(a) + " needs a file name");
            opt.config = argv[++i];
            continue;
        }
        if (a.starts_with("--config=")) { opt.config = a.substr(9); continue; }
        return bad_flags("unknown argument '" + std::string(a) + "'");
    }
    if (!opt.diff_from.empty() && !opt.check) return bad_flags("--diff goes with --check");
    if (opt.config.empty()) {
        const char* env = std::getenv("WSGATED_CONFIG");
        if (!env || !*env) return bad_flags("no configuration: pass --config FILE or set WSGATED_CONFIG");
        opt.config = env;
    }
    return -1;
}

// --check --diff OLD: one line per change ("changed server.limits.send_queue"), then which of
// them wait for a restart. OLD must load too (its errors are printed, exit 1).
int print_diff(const std::string& old_file, const wsgated::config::gateway_config& next) {
    auto old = wsgated::config::load_file(old_file);
    for (const auto& e : old.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!old.errors.empty()) {
        std::fprintf(stderr, "wsgated: %zu error(s) in %s (--diff)\n", old.errors.size(), old_file.c_str());
        return 1;
    }
    auto changes = wsgated::config::diff(*old.config, next);
    if (changes.empty()) std::printf("no change from %s\n", old_file.c_str());
    for (const auto& ch : changes)
        std::printf("%s %s%s\n", wsgated::config::kind_name(ch.what), ch.key.c_str(),
                    wsgated::config::needs_restart(ch.key) ? " (needs a restart)" : "");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    if (int rc = parse_flags(argc, argv, opt); rc >= 0) return rc;

    auto loaded = wsgated::config::load_file(opt.config);
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!loaded.errors.empty()) {
        std::fprintf(stderr, "wsgated: %zu error(s) in %s\n", loaded.errors.size(), opt.config.c_str());
        // The first mistake of a new user: say what a configuration is and where one is.
        if (loaded.errors.front().line == 0 && loaded.errors.front().reason.starts_with("cannot read:"))
            std::fputs("wsgated: --config takes the path of a YAML file; config/gateway.yaml is a small one, "
                       "docs/configuration.md lists every key\n", stderr);
        return 1;
    }
    if (opt.check) {
        std::printf("config OK: %s\n", opt.config.c_str());
        return opt.diff_from.empty() ? 0 : print_diff(opt.diff_from, *loaded.config);
    }
    if (!wsgated::server::setup_logging(loaded.config->server.log)) return 1;  // the loader checked it
    spdlog::info("wsgated {} starting with {} ({} workers)", WSGATED_VERSION, opt.config,
                 loaded.config->server.workers);
    wsgated::server::server srv(loaded.config);
    return srv.run();
}
