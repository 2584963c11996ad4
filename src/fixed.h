/*
 * fixed.h — exact decimal <-> int64 fixed-point conversion.
 *
 * A value v at scale s represents v / 10^s. Scales are 0..LIQ_MAX_SCALE.
 * Decimal strings are parsed exactly (no float round trip); floats are rounded
 * to the nearest unit and rejected if they are not within float rounding error
 * of a unit (i.e. they carry digits beyond the scale). All functions are pure,
 * allocation-free and thread-safe.
 */
#ifndef LIQ_FIXED_H
#define LIQ_FIXED_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LIQ_MAX_SCALE 18
/* "wire decimals unknown": the value did not come from a decimal string. */
#define LIQ_DEC_NONE 255
/* Longest string liq_decimal_format() writes, including the terminating NUL. */
#define LIQ_DECIMAL_BUF 48

/* 10^k for k in 0..18. */
extern const int64_t liq_pow10[LIQ_MAX_SCALE + 1];
extern const double liq_pow10_f64[LIQ_MAX_SCALE + 1];   /* the same, as doubles (exact) */

/*
 * Parse the ASCII decimal s[0..n) at `scale` into *out (signed).
 * Grammar: ['-'|'+'] digits ['.' digits] [('e'|'E') ['-'|'+'] digits], at least one
 * mantissa digit. Trailing zeros beyond the scale are accepted; a non-zero digit
 * beyond it gives LIQ_ERR_PRECISION. *wire_dec (may be NULL) receives the number of
 * fraction digits as written ("0.5000" -> 4), or LIQ_DEC_NONE for exponent forms or
 * more than 254 fraction digits. Returns LIQ_OK, LIQ_ERR_PARSE, LIQ_ERR_PRECISION,
 * LIQ_ERR_OVERFLOW or LIQ_ERR_ARG (bad scale). O(n).
 */
liq_status liq_decimal_parse(const char *s, size_t n, int scale, int64_t *out, uint8_t *wire_dec);

/*
 * Convert a double to fixed point at `scale`. Returns LIQ_ERR_NAN, LIQ_ERR_INF,
 * LIQ_ERR_OVERFLOW (|x|*10^scale >= 2^63) or LIQ_ERR_PRECISION (x is not within
 * rounding error of a multiple of 10^-scale). O(1).
 */
static inline liq_status liq_fixed_from_double(double x, int scale, int64_t *out);

/*
 * Convert an integer (whole units of the quantity, e.g. a price of 61700) to fixed
 * point at `scale`: v * 10^scale exactly, LIQ_ERR_OVERFLOW when it leaves int64. O(1).
 */
static inline liq_status liq_fixed_from_i64(int64_t v, int scale, int64_t *out);

/*
 * Write v / 10^scale as a decimal string into buf (>= LIQ_DECIMAL_BUF bytes),
 * NUL-terminated; returns its length. With dec == LIQ_DEC_NONE the shortest form is
 * written (no trailing zeros, no '.' for integers); otherwise at least `dec`
 * fraction digits (zero padded, at most 24 so the result fits LIQ_DECIMAL_BUF), never
 * fewer than the value needs. scale must be 0..LIQ_MAX_SCALE. O(digits).
 */
size_t liq_decimal_format(int64_t v, int scale, int dec, char *buf);

/* Value as a double (nearest). O(1). */
static inline double liq_fixed_to_double(int64_t v, int scale)
{
    return (double)v / (double)liq_pow10[scale];
}

/* ---- inline definitions ------------------------------------------------ */

static inline liq_status liq_fixed_from_double(double x, int scale, int64_t *out)
{
    double y = x * liq_pow10_f64[scale];
    /* One test for the usual case, finite and in range (NaN fails every comparison);
     * the error is classified only when it fails. */
    if (!(__builtin_fabs(y) < 9.2233720368547758e18)) {
        if (x != x) return LIQ_ERR_NAN;
        if (__builtin_fabs(x) > 1.7976931348623157e308) return LIQ_ERR_INF;
        return LIQ_ERR_OVERFLOW;
    }
    /* round half away from zero; __builtin_fabs/copysign are bit masks (no libm, and
     * no branch: a mispredicted sign test cost a third of an update) */
    int64_t r = (int64_t)(y + __builtin_copysign(0.5, y));
    double err = __builtin_fabs(y - (double)r);
    double ar = __builtin_fabs((double)r);
    /* x carries at most ~1 ulp of decimal error, the multiply one more: allow a
     * few ulps of |y| (plus a tiny absolute slack for values near zero). */
    if (err > 1e-7 + ar * 8.9e-16) return LIQ_ERR_PRECISION;
    *out = r;
    return LIQ_OK;
}

static inline liq_status liq_fixed_from_i64(int64_t v, int scale, int64_t *out)
{
    return __builtin_mul_overflow(v, liq_pow10[scale], out) ? LIQ_ERR_OVERFLOW : LIQ_OK;
}

#ifdef __cplusplus
}
#endif
#endif
