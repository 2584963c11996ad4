#include "fixed.h"

const int64_t liq_pow10[LIQ_MAX_SCALE + 1] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL, 100000000LL,
    1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL,
    100000000000000LL, 1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL,
};

/* The same powers as doubles: all exact (10^18 < 2^53 * 2^18, and 5^18 < 2^53). */
const double liq_pow10_f64[LIQ_MAX_SCALE + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

liq_status liq_decimal_parse(const char *s, size_t n, int scale, int64_t *out, uint8_t *wire_dec)
{
    if (scale < 0 || scale > LIQ_MAX_SCALE) return LIQ_ERR_ARG;
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) { neg = s[i] == '-'; i++; }

    /* Mantissa: remember where the digits are; value is digits * 10^(exp - frac_len). */
    size_t int_start = i;
    while (i < n && is_digit(s[i])) i++;
    size_t int_end = i, frac_start = i, frac_end = i;
    if (i < n && s[i] == '.') {
        i++;
        frac_start = i;
        while (i < n && is_digit(s[i])) i++;
        frac_end = i;
    }
    if (int_end == int_start && frac_end == frac_start) {
        /* name the special values JSON encoders and Decimal produce, for a clearer error */
        size_t m = n - i;
        if (m != 3 && m != 8) return LIQ_ERR_PARSE;
        const char *w = s + i;   /* m > 0, so s is a real buffer here */
        if ((m == 3 && (w[0] | 32) == 'n' && (w[1] | 32) == 'a' && (w[2] | 32) == 'n')) return LIQ_ERR_NAN;
        if ((m == 3 && (w[0] | 32) == 'i' && (w[1] | 32) == 'n' && (w[2] | 32) == 'f') ||
            (m == 8 && (w[0] | 32) == 'i' && (w[1] | 32) == 'n' && (w[2] | 32) == 'f' && (w[3] | 32) == 'i' &&
             (w[4] | 32) == 'n' && (w[5] | 32) == 'i' && (w[6] | 32) == 't' && (w[7] | 32) == 'y'))
            return LIQ_ERR_INF;
        return LIQ_ERR_PARSE;
    }

    int64_t exp10 = 0;
    int has_exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        has_exp = 1;
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '-' || s[i] == '+')) { eneg = s[i] == '-'; i++; }
        if (i >= n || !is_digit(s[i])) return LIQ_ERR_PARSE;
        /* Saturate instead of failing: "0e999999" is 0 and "1e-999999" is a precision
         * error, not an overflow. 10^15 is far beyond any meaningful exponent and keeps
         * k below from overflowing. */
        while (i < n && is_digit(s[i])) {
            if (exp10 < 1000000000000000LL) exp10 = exp10 * 10 + (s[i] - '0');
            i++;
        }
        if (eneg) exp10 = -exp10;
    }
    if (i != n) return LIQ_ERR_PARSE;

    size_t frac_len = frac_end - frac_start;
    if (wire_dec) *wire_dec = (has_exp || frac_len > 254) ? LIQ_DEC_NONE : (uint8_t)frac_len;

    /* Digit sequence = int digits then frac digits. Power applied to it: */
    int64_t k = (int64_t)scale + exp10 - (int64_t)frac_len;

    /* Strip trailing zeros (they only raise k), then leading zeros. */
    const char *d0 = s + int_start;           /* int part */
    const char *f0 = s + frac_start;          /* frac part */
    size_t ilen = int_end - int_start, flen = frac_len;
    while (flen > 0 && f0[flen - 1] == '0') { flen--; k++; }
    if (flen == 0) {
        while (ilen > 0 && d0[ilen - 1] == '0') { ilen--; k++; }
    }
    /* Now the digit string is d0[0..ilen) + f0[0..flen) (flen>0 only if its last digit is non-zero,
     * or if flen==0 the int part's last digit is non-zero). */
    uint64_t m = 0;
    int ndig = 0;
    for (int part = 0; part < 2; part++) {
        const char *p = part ? f0 : d0;
        size_t len = part ? flen : ilen;
        for (size_t j = 0; j < len; j++) {
            if (m == 0 && p[j] == '0') continue;   /* leading zeros */
            if (++ndig > 19) return k < 0 ? LIQ_ERR_PRECISION : LIQ_ERR_OVERFLOW;
            m = m * 10 + (uint64_t)(p[j] - '0');
        }
    }
    if (m == 0) { *out = 0; return LIQ_OK; }
    if (k < 0) return LIQ_ERR_PRECISION;      /* a non-zero digit sits beyond the scale */
    if (k > 18) return LIQ_ERR_OVERFLOW;
    uint64_t v;
    if (__builtin_mul_overflow(m, (uint64_t)liq_pow10[k], &v) || v > (uint64_t)INT64_MAX)
        return LIQ_ERR_OVERFLOW;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return LIQ_OK;
}

size_t liq_decimal_format(int64_t v, int scale, int dec, char *buf)
{
    char tmp[24];
    size_t len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    /* digits of u, least significant first */
    size_t nd = 0;
    do { tmp[nd++] = (char)('0' + u % 10); u /= 10; } while (u);
    /* fraction digits actually needed (strip zeros below the last non-zero) */
    int need = scale;
    for (int j = 0; j < scale && need > 0; j++) {
        char c = (size_t)j < nd ? tmp[j] : '0';
        if (c != '0') break;
        need--;
    }
    int want = dec == LIQ_DEC_NONE ? 0 : dec;
    int fd = need > want ? need : want;
    if (fd > 24) fd = 24;   /* LIQ_DECIMAL_BUF bounds the padding */
    if (v < 0) buf[len++] = '-';
    /* integer part: digits above `scale` */
    if ((int)nd > scale) {
        for (size_t j = nd; j-- > (size_t)scale;) buf[len++] = tmp[j];
    } else {
        buf[len++] = '0';
    }
    if (fd > 0) {
        buf[len++] = '.';
        for (int j = 0; j < fd; j++) {
            int pos = scale - 1 - j;   /* digit index in tmp; negative = padding below the scale */
            buf[len++] = (pos >= 0 && (size_t)pos < nd) ? tmp[pos] : '0';
        }
    }
    buf[len] = '\0';
    return len;
}
