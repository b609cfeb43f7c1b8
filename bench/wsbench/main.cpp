// wsbench: the project's WebSocket load generator (issue 8; README.md is its contract).
// main parses the command line and hands over to run_bench; nothing more.
#include <cstdio>
#include <string>

#include "options.h"
#include "run.h"

int main(int argc, char** argv) {
    wsbench::options o;
    std::string err;
    if (!wsbench::parse_options(argc, argv, o, err)) {
        if (err.empty()) return 0;  // --help
        std::fprintf(stderr, "wsbench: %s\n", err.c_str());
        return 2;
    }
    return wsbench::run_bench(o);
}
