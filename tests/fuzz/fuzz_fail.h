/*
 * fuzz_fail.h — FAIL(...) of the fuzz harnesses: prints "<FUZZ_HARNESS> invariant violated: "
 * and the printf-style message, then aborts (libFuzzer reports it as a crash; tests/sanitize.sh
 * looks for "invariant violated"). Define FUZZ_HARNESS (a string literal) before including it.
 */
#ifndef LIQ_FUZZ_FAIL_H
#define LIQ_FUZZ_FAIL_H

#include <stdio.h>
#include <stdlib.h>

#define FAIL(...)                                                         \
    do {                                                                  \
        fprintf(stderr, FUZZ_HARNESS " invariant violated: " __VA_ARGS__); \
        fprintf(stderr, "\n");                                            \
        abort();                                                          \
    } while (0)

#endif
