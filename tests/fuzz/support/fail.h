// fail: how a fuzz target reports a broken property — the file and line of the check on
// stderr, then abort(), which libFuzzer and driver.cpp both take as a crash (the input is kept).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_FAIL()                                                                          \
    (std::fprintf(stderr, "fuzz property failed at %s:%d\n", __FILE__, __LINE__), std::abort())
