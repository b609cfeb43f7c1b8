// run: one wsbench run from parsed options to the JSON on stdout; returns the exit status
// (README.md: 0 clean, 1 errors counted, 3 could not run).
#pragma once

#include "options.h"

namespace wsbench {

int run_bench(const options& o);

}  // namespace wsbench
