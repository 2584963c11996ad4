/* Minimal assertion helpers for the C unit tests (no framework dependency). */
#ifndef LIQ_TEST_CHECK_H
#define LIQ_TEST_CHECK_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int liq_test_failures = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            liq_test_failures++;                                                     \
        }                                                                            \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                                     \
    do {                                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                  \
        if (va_ != vb_) {                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
                    #b, va_, vb_);                                                             \
            liq_test_failures++;                                                               \
        }                                                                                      \
    } while (0)

/* |a - b| <= tol; tol 0 demands exact equality (for values that are exact in binary). */
#define CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                        \
        double va_ = (a), vb_ = (b);                                                            \
        if (!(fabs(va_ - vb_) <= (tol))) {                                                      \
            fprintf(stderr, "%s:%d: %s ~= %s failed: %.17g != %.17g\n", __FILE__, __LINE__, #a, \
                    #b, va_, vb_);                                                              \
            liq_test_failures++;                                                                \
        }                                                                                       \
    } while (0)

#define TEST_MAIN_END()                                                      \
    do {                                                                     \
        if (liq_test_failures) {                                             \
            fprintf(stderr, "%d check(s) failed\n", liq_test_failures);      \
            return EXIT_FAILURE;                                             \
        }                                                                    \
        return EXIT_SUCCESS;                                                 \
    } while (0)
#endif
