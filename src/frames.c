#include "frames.h"

#include <string.h>
#include "checksum.h"
#include "fixed.h"

/* ---- cursor ------------------------------------------------------------------
 * One pass over the frame. Every helper returns 0 on success, -1 after recording
 * the first structural error (LIQ_ERR_FORMAT at a byte offset) in the cursor. */

typedef struct cur {
    const char *s;
    size_t n, i;
    size_t err_at;
    int esc;          /* the last string str() read had an escape (its raw bytes are not its text) */
} cur;

static int fail(cur *c) { c->err_at = c->i; return -1; }

static inline void ws(cur *c)
{
    while (c->i < c->n) {
        char ch = c->s[c->i];
        if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') return;
        c->i++;
    }
}

/* next non-blank byte, or 0 at the end (a NUL byte also reads 0: see at_end) */
static inline char peek(cur *c)
{
    ws(c);
    return c->i < c->n ? c->s[c->i] : 0;
}

/* Only blanks left: the document is complete. By position, not by peek(), because a NUL
 * byte after the document is trailing garbage, not an end. */
static inline int at_end(cur *c)
{
    ws(c);
    return c->i == c->n;
}

static inline int expect(cur *c, char ch)
{
    if (peek(c) != ch) return fail(c);
    c->i++;
    return 0;
}

/* Non-zero when one of the 8 bytes of w is '"', '\\', a control byte (< 0x20) or not ASCII
 * (>= 0x80, validated as UTF-8 one by one): the classic "has a zero byte" bit trick on
 * w ^ pattern. A borrow can flag a byte above the first special one, never miss that one. */
static inline uint64_t special8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    return (((q - ones) & ~q) | ((bs - ones) & ~bs) | (w - ones * 0x20) | w) & high;
}

/* The value of 4 hex digits, or -1. */
static long hex4(const char *s)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        char ch = s[k];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : (ch | 32) >= 'a' && (ch | 32) <= 'f' ? (ch | 32) - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence at s[i] (s[i] >= 0x80), 0 when it is not one:
 * RFC 3629's table, so no overlong form, no encoded surrogate, nothing above U+10FFFF. */
static size_t utf8_seq(const char *s, size_t i, size_t n)
{
    unsigned char c0 = (unsigned char)s[i], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c0 >= 0xC2 && c0 <= 0xDF) len = 2;
    else if (c0 >= 0xE0 && c0 <= 0xEF) { len = 3; if (c0 == 0xE0) lo = 0xA0; else if (c0 == 0xED) hi = 0x9F; }
    else if (c0 >= 0xF0 && c0 <= 0xF4) { len = 4; if (c0 == 0xF0) lo = 0x90; else if (c0 == 0xF4) hi = 0x8F; }
    else return 0;
    if (n - i < len) return 0;
    unsigned char c1 = (unsigned char)s[i + 1];
    if (c1 < lo || c1 > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (((unsigned char)s[i + k] & 0xC0) != 0x80) return 0;
    return len;
}

/*
 * A JSON string at the cursor (after blanks); *off and *len: the raw bytes inside the quotes
 * (validated, not decoded; c->esc tells whether they hold an escape). Valid means what a
 * strict parser (RFC 8259 + UTF-8, as orjson) accepts: no control byte, well-formed UTF-8,
 * known escapes, and \u escapes of surrogates only as a high + low pair. O(length); plain
 * ASCII runs 8 bytes at a time.
 */
static int str(cur *c, size_t *off, size_t *len)
{
    if (peek(c) != '"') return fail(c);
    size_t i = ++c->i;
    const char *s = c->s;
    size_t n = c->n;
    int esc = 0;
    for (;;) {
        /* the common case, plain bytes: 8 at a time while they last, then one by one */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (special8(w)) break;
            i += 8;
        }
        while (i < n && s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x80) i++;
        if (i >= n) { c->i = i; return fail(c); }
        unsigned char u = (unsigned char)s[i];
        if (u >= 0x80) {
            size_t k = utf8_seq(s, i, n);
            if (!k) { c->i = i; return fail(c); }
            i += k;
            continue;
        }
        if (u < 0x20) { c->i = i; return fail(c); }
        if (u == '"') break;
        /* escape */
        esc = 1;
        if (i + 1 >= n) { c->i = i; return fail(c); }
        char e = s[i + 1];
        if (e == 'u') {
            long v = n - i >= 6 ? hex4(s + i + 2) : -1;
            if (v >= 0xD800 && v <= 0xDBFF) {
                /* a high surrogate: only with a low one right after it (one code point) */
                long lo = n - i >= 12 && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(s + i + 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) { c->i = i; return fail(c); }
                i += 6;
            } else if (v < 0 || (v >= 0xDC00 && v <= 0xDFFF)) {
                c->i = i;
                return fail(c);
            }
            i += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
            i += 2;
        } else {
            c->i = i;
            return fail(c);
        }
    }
    *off = c->i;
    *len = i - c->i;
    c->i = i + 1;
    c->esc = esc;
    return 0;
}

/*
 * The text of the raw string bytes s[0..n) (already validated by str()), escapes decoded
 * to UTF-8, into out[0..cap); its length, or SIZE_MAX when it does not fit. Used only for
 * the short strings compared or read as numbers (keys, "e", "action", "channel", "ts"):
 * escaped or not, a string means its text, as for any JSON parser. O(n).
 */
static size_t unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned long cp;
        if (s[i] != '\\') {
            if (k == cap) return SIZE_MAX;
            out[k++] = s[i++];
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            cp = (unsigned long)hex4(s + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {   /* str() checked the low half follows */
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)hex4(s + i + 2) - 0xDC00);
                i += 6;
            }
            break;
        default: cp = (unsigned char)e;   /* '"', '\\', '/' */
        }
        size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (cap - k < len) return SIZE_MAX;
        if (len == 1) {
            out[k++] = (char)cp;
        } else {
            static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
            for (size_t j = len - 1; j > 0; j--) {
                out[k + j] = (char)(0x80 | (cp & 0x3F));
                cp >>= 6;
            }
            out[k] = (char)(lead[len] | cp);
            k += len;
        }
    }
    return k;
}

/* Longest decoded text unescape() is asked for (the known keys and values are shorter). */
enum { TEXT_BUF = 24 };

/* The text of the string s[off..off+len) (raw bytes, escaped when esc) into buf; *tl its
 * length (SIZE_MAX: longer than TEXT_BUF, so none of the names or digits looked for). */
static inline const char *text(const cur *c, size_t off, size_t len, int esc, char *buf, size_t *tl)
{
    if (!esc) { *tl = len; return c->s + off; }
    *tl = unescape(c->s + off, len, buf, TEXT_BUF);
    return buf;
}

static inline int text_is(const char *t, size_t tl, const char *lit, size_t litlen)
{
    return tl == litlen && memcmp(t, lit, litlen) == 0;
}

static inline int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight ASCII digits at p read as one number, 8 bytes at a time (the "SWAR" parse of
 * fast_float, Lemire): 1 when all eight are digits (*out their value), else 0. Venues
 * pad fractions to 8 digits (Binance "59999.99000000"): one call instead of 8 loop
 * turns per field. */
#define LIQ_SWAR_DIGITS 1
static inline int eight_digits(const char *p, uint64_t *out)
{
    uint64_t v;
    memcpy(&v, p, 8);
    if ((((v + 0x4646464646464646ULL) | (v - 0x3030303030303030ULL)) & 0x8080808080808080ULL) != 0) return 0;
    v -= 0x3030303030303030ULL;
    v = v * 10 + (v >> 8);
    *out = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
            (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
    return 1;
}
#endif

/* Digits of 2^1024 - 2^970: half-way between DBL_MAX and 2^1024, the smallest magnitude a
 * double rounds to infinity (ties to even: DBL_MAX's mantissa is odd). */
static const char DBL_INF_DIGITS[] =
    "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797758720709"
    "63302864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757"
    "30270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/*
 * Whether the number whose integer digits are s[ip..ip+il), fraction digits s[fp..fp+fl),
 * times 10^exp (saturated), is infinite as a double. orjson refuses such numbers (RFC 8259
 * lets a parser limit the range), so a frame holding one, even in a skipped value, is
 * malformed here too. Compares the digits with DBL_INF_DIGITS only when the leading digit
 * is at 10^308. O(digits).
 */
static int dbl_overflows(const char *s, size_t ip, size_t il, size_t fp, size_t fl, int64_t exp)
{
    size_t nd = il + fl, p = 0;
#define DIGIT(k) ((k) < il ? s[ip + (k)] : s[fp + (k) - il])
    while (p < nd && DIGIT(p) == '0') p++;
    if (p == nd) return 0;   /* zero */
    int64_t e10 = (int64_t)il - 1 - (int64_t)p + exp;   /* power of ten of the leading digit */
    if (e10 != 308) return e10 > 308;
    for (size_t j = 0; j < sizeof DBL_INF_DIGITS - 1; j++) {
        char d = p + j < nd ? DIGIT(p + j) : '0';
        if (d != DBL_INF_DIGITS[j]) return d > DBL_INF_DIGITS[j];
    }
#undef DIGIT
    return 1;   /* equal to the half-way point, or above it */
}

/* A JSON number (grammar, and a finite double: see dbl_overflows). */
static int number(cur *c)
{
    const char *s = c->s;
    size_t n = c->n, i = c->i;
    if (i < n && s[i] == '-') i++;
    if (i >= n || !is_digit(s[i])) { c->i = i; return fail(c); }
    size_t ip = i, fp = 0, fl = 0;
    if (s[i] == '0') i++;
    else while (i < n && is_digit(s[i])) i++;
    size_t il = i - ip;
    if (i < n && s[i] == '.') {
        fp = ++i;
        if (i >= n || !is_digit(s[i])) { c->i = i; return fail(c); }
        while (i < n && is_digit(s[i])) i++;
        fl = i - fp;
    }
    int64_t exp = 0;
    int has_exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int neg = 0;
        has_exp = 1;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
        if (i >= n || !is_digit(s[i])) { c->i = i; return fail(c); }
        /* saturated far beyond any digit count a frame can hold: only the sign matters there */
        while (i < n && is_digit(s[i])) {
            if (exp < INT64_C(1000000000000)) exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (neg) exp = -exp;
    }
    if ((has_exp || il > 308) && dbl_overflows(s, ip, il, fp, fl, exp)) { c->i = ip; return fail(c); }
    c->i = i;
    return 0;
}

static int literal(cur *c, const char *w, size_t len)
{
    if (c->n - c->i < len || memcmp(c->s + c->i, w, len) != 0) return fail(c);
    c->i += len;
    return 0;
}

/* Any JSON value (validated and skipped); depth = nesting of the value itself. */
static int skip(cur *c, int depth)
{
    size_t off, len;
    char ch = peek(c);
    switch (ch) {
    case '"': return str(c, &off, &len);
    case 't': return literal(c, "true", 4);
    case 'f': return literal(c, "false", 5);
    case 'n': return literal(c, "null", 4);
    case '{': case '[': {
        char close = ch == '{' ? '}' : ']';
        if (depth > LIQ_FRAME_MAX_DEPTH) return fail(c);
        c->i++;
        if (peek(c) == close) { c->i++; return 0; }
        for (;;) {
            if (ch == '{') {
                if (str(c, &off, &len) || expect(c, ':')) return -1;
            }
            if (skip(c, depth + 1)) return -1;
            char nx = peek(c);
            if (nx == ',') { c->i++; continue; }
            if (nx == close) { c->i++; return 0; }
            return fail(c);
        }
    }
    default:
        if (ch == '-' || is_digit(ch)) return number(c);
        return fail(c);
    }
}

/* A JSON integer that fits int64 into *v; 1 (cursor unmoved) when the value is not an
 * integer (another type, a fraction, an exponent, out of range): the caller skips it. */
static int integer(cur *c, int64_t *v)
{
    size_t i = c->i;
    const char *s = c->s;
    size_t n = c->n;
    int neg = 0;
    if (i < n && s[i] == '-') { neg = 1; i++; }
    if (i >= n || !is_digit(s[i])) return 1;
    if (s[i] == '0' && i + 1 < n && is_digit(s[i + 1])) return 1;
    uint64_t acc = 0;
    while (i < n && is_digit(s[i])) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (acc > (UINT64_C(9223372036854775808) - d) / 10) return 1;
        acc = acc * 10 + d;
        i++;
    }
    if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) return 1;
    if (!neg && acc > (uint64_t)INT64_MAX) return 1;
    *v = neg ? (acc == UINT64_C(9223372036854775808) ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
    c->i = i;
    return 0;
}

/* Digits only, as OKX writes "ts" (at most 18: always an int64) */
static int digits_i64(const char *s, size_t n, int64_t *v)
{
    if (n == 0 || n > 18) return 1;
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return 1;
        acc = acc * 10 + (s[i] - '0');
    }
    *v = acc;
    return 0;
}

/* An object's key and its ':' at the cursor: *ko where it starts (for errors), *k and *kl
 * its text (decoded into buf when written with escapes, so "\u0062" is the key "b"). */
static inline int key(cur *c, size_t *ko, const char **k, size_t *kl, char *buf)
{
    size_t len;
    if (str(c, ko, &len)) return -1;
    *k = text(c, *ko, len, c->esc, buf, kl);
    return expect(c, ':');
}
#define KEY(name) text_is(k, kl, name, sizeof(name) - 1)

/* ---- frame state --------------------------------------------------------------- */

typedef struct fstate {
    liq_book *b;           /* NULL in scan mode */
    int scan;
    liq_delta *d;          /* the book's scratch (apply mode) */
    size_t cap, nd;        /* its capacity; deltas written */
    /* where each side's deltas sit in d: sides are parsed in wire order */
    size_t bid_at, ask_at;
    int bids_seen, asks_seen;
    /* the first bad price/size: status and level index within its side */
    liq_status val_st;
    int val_side;
    size_t val_idx;
    int bad_type;          /* a known key had a value of the wrong type */
    size_t bad_at;
    liq_frame_result *r;
    /* routed Binance frames (liq_frame_binance_depth_routed): the resolver, called once per
     * payload at its "s"; late: the book it gave, when levels came before "s" (then the frame
     * is parsed again with that book: Binance writes "s" first, so only odd key orders pay) */
    liq_frame_router route;
    void *route_ctx;
    liq_book *late;
} fstate;

static void bad_type(fstate *f, size_t at)
{
    if (!f->bad_type) { f->bad_type = 1; f->bad_at = at; }
}

/* Fraction digits as written (scan mode), LIQ_DEC_NONE-free: exponent forms count 0. */
static int frac_digits(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '.') i++;
    if (i == n) return 0;
    size_t j = ++i;
    while (j < n && is_digit(s[j])) j++;
    if (j < n) return 0;   /* exponent: no wire decimals */
    return (int)(j - i);
}

/*
 * A price/size string at the cursor converted at `scale` (apply mode). The usual form,
 * digits[.digits] with at most 18 digits of integer part plus scale, is converted while
 * it is scanned; any other string is scanned as JSON and given to liq_decimal_parse, so
 * the results (value, wire decimals, status) are always liq_decimal_parse's. Returns -1
 * for a malformed JSON string, else 0 with the conversion status in *st.
 */
static int dec_field(cur *c, int scale, int64_t *v, uint8_t *dec, liq_status *st)
{
    const char *s = c->s;
    size_t n = c->n, i = c->i + 1;   /* c->i is at the opening quote */
    uint64_t acc = 0;
    int nd = 0, fd = 0;
    while (i < n && is_digit(s[i])) {
        if (++nd > 18) goto slow;
        acc = acc * 10 + (uint64_t)(s[i++] - '0');
    }
    if (nd == 0 || nd + scale > 18) goto slow;
    if (i < n && s[i] == '.') {
        i++;
#ifdef LIQ_SWAR_DIGITS
        uint64_t eight;
        if (scale >= 8 && n - i >= 8 && eight_digits(s + i, &eight)) {
            acc = acc * 100000000u + eight;      /* nd + scale <= 18: no overflow */
            fd = 8;
            i += 8;
        }
#endif
        while (i < n && is_digit(s[i])) {
            if (fd < scale) acc = acc * 10 + (uint64_t)(s[i] - '0');
            else if (s[i] != '0') goto slow;      /* a precision error: reported by the slow path */
            fd++;
            i++;
        }
        if (fd == 0 || fd > 254) goto slow;
    }
    if (i >= n || s[i] != '"') goto slow;
    *v = (int64_t)(acc * (uint64_t)liq_pow10[fd < scale ? scale - fd : 0]);
    *dec = (uint8_t)fd;
    *st = LIQ_OK;
    c->i = i + 1;
    return 0;
slow:;
    size_t off, len;
    if (str(c, &off, &len)) return -1;
    *st = liq_decimal_parse(s + off, len, scale, v, dec);
    return 0;
}

/* One price/size pair validated and measured (scan mode: not converted at any scale). */
static void level(fstate *f, const cur *c, int side, size_t idx, size_t po, size_t pl, size_t qo, size_t ql)
{
    liq_frame_result *r = f->r;
    if (f->val_st != LIQ_OK) return;   /* the first bad value is reported; the rest is only parsed */
    int64_t v;
    liq_status st = liq_decimal_parse(c->s + po, pl, 0, &v, NULL);
    if (st == LIQ_OK || st == LIQ_ERR_PRECISION || st == LIQ_ERR_OVERFLOW)
        st = liq_decimal_parse(c->s + qo, ql, 0, &v, NULL);
    if (st != LIQ_OK && st != LIQ_ERR_PRECISION && st != LIQ_ERR_OVERFLOW) {
        f->val_st = st; f->val_side = side; f->val_idx = idx;
        return;
    }
    int pd = frac_digits(c->s + po, pl), qd = frac_digits(c->s + qo, ql);
    if (pd > r->max_px_dec) r->max_px_dec = pd;
    if (qd > r->max_qty_dec) r->max_qty_dec = qd;
}

/* A converted level into the next scratch delta (apply mode); st: its conversion status. */
static void put(fstate *f, const liq_delta *dl, liq_status st, size_t idx)
{
    liq_frame_result *r = f->r;
    if (f->val_st != LIQ_OK) return;   /* the first bad value is reported; the rest is only parsed */
    if (st != LIQ_OK) { f->val_st = st; f->val_side = dl->side; f->val_idx = idx; return; }
    if (f->nd == f->cap) {
        liq_delta *d = liq_book_scratch(f->b, f->cap ? f->cap * 2 : 64);
        if (!d) { f->val_st = LIQ_ERR_NOMEM; f->val_side = dl->side; f->val_idx = idx; return; }
        f->d = d;
        f->cap = f->b->scratch_cap;
    }
    f->d[f->nd++] = *dl;
    if (dl->px_dec != LIQ_DEC_NONE && dl->px_dec > r->max_px_dec) r->max_px_dec = dl->px_dec;
    if (dl->qty_dec != LIQ_DEC_NONE && dl->qty_dec > r->max_qty_dec) r->max_qty_dec = dl->qty_dec;
}

/*
 * A levels array [[px, qty, ...], ...] for `side`. Returns 0 (parsed: *count levels),
 * 1 (valid JSON of another shape: skipped, deltas of it dropped), -1 (malformed JSON).
 */
static int levels(cur *c, fstate *f, int side, size_t *count, int depth)
{
    size_t start = c->i, nd0 = f->nd;
    liq_status vst0 = f->val_st;
    size_t n = 0;
    if (peek(c) != '[') goto other;
    c->i++;
    if (peek(c) == ']') { c->i++; *count = 0; return 0; }
    for (;;) {
        size_t po = 0, pl = 0, qo = 0, ql = 0;
        liq_delta dl = {0, 0, (uint8_t)side, 0, 0};
        liq_status pst = LIQ_OK, qst = LIQ_OK;
        if (peek(c) != '[') goto other;
        c->i++;
        if (peek(c) != '"') goto other;
        if (f->scan ? str(c, &po, &pl) : dec_field(c, f->b->px_scale, &dl.px, &dl.px_dec, &pst)) goto other;
        if (peek(c) != ',') goto other;
        c->i++;
        if (peek(c) != '"') goto other;
        if (f->scan ? str(c, &qo, &ql) : dec_field(c, f->b->qty_scale, &dl.qty, &dl.qty_dec, &qst)) goto other;
        for (;;) {
            char ch = peek(c);
            if (ch == ']') { c->i++; break; }
            if (ch != ',') goto other;
            c->i++;
            if (skip(c, depth + 2)) goto other;
        }
        if (f->scan) level(f, c, side, n, po, pl, qo, ql);
        else put(f, &dl, pst != LIQ_OK ? pst : qst, n);
        n++;
        char ch = peek(c);
        if (ch == ',') { c->i++; continue; }
        if (ch == ']') { c->i++; break; }
        goto other;
    }
    *count = n;
    return 0;
other:
    /* not levels: rewind and skip it as a value (which also tells malformed JSON) */
    c->i = start;
    f->nd = nd0;
    f->val_st = vst0;
    if (skip(c, depth)) return -1;
    return 1;
}

/* Known-key value helpers: an integer (`bit` set in r->present), or a type mismatch noted
 * (value skipped). An id the book is given (bit in LIQ_FRAME_IDS) must be one it can hold:
 * INT64_MIN is LIQ_ID_NONE, its "no id", so it is out of range like 2^63. */
static int int_field(cur *c, fstate *f, int64_t *v, unsigned bit, int depth)
{
    size_t at = (ws(c), c->i);
    if (integer(c, v) == 0) {
        if ((bit & LIQ_FRAME_IDS) && *v == LIQ_ID_NONE) bad_type(f, at);
        else f->r->present |= bit;
        return 0;
    }
    bad_type(f, at);
    return skip(c, depth);
}

static int str_field(cur *c, fstate *f, size_t *off, size_t *len, int depth)
{
    size_t at = (ws(c), c->i);
    if (peek(c) == '"') return str(c, off, len);
    bad_type(f, at);
    return skip(c, depth);
}

/* Put the bids' deltas first (the order liq_book_apply sees from Python) when the asks
 * came first on the wire: rotate d[0..nd) by the asks' length (three reversals keep each
 * side's own order). */
static void reverse(liq_delta *d, size_t lo, size_t hi)
{
    while (lo + 1 < hi) {
        liq_delta t = d[lo];
        d[lo++] = d[--hi];
        d[hi] = t;
    }
}

static void bids_first(fstate *f)
{
    if (f->scan || !f->asks_seen || !f->bids_seen || f->ask_at > f->bid_at) return;
    size_t na = f->r->asks;
    if (na == 0 || na == f->nd) return;
    reverse(f->d, 0, na);
    reverse(f->d, na, f->nd);
    reverse(f->d, 0, f->nd);
}

/* The deltas to apply, never NULL (an empty message still needs a buffer for the core). */
static liq_delta *deltas(fstate *f)
{
    if (!f->d) f->d = liq_book_scratch(f->b, 1);
    return f->d;
}

/* Nothing read yet: ids absent, every count 0. */
static void result_init(liq_frame_result *r)
{
    memset(r, 0, sizeof *r);
    r->first_id = r->last_id = r->prev_id = r->event_ms = r->txn_ms = LIQ_ID_NONE;
}

static void init(fstate *f, liq_book *b, unsigned flags, liq_frame_result *r)
{
    result_init(r);
    memset(f, 0, sizeof *f);
    f->r = r;
    f->scan = (flags & LIQ_FRAME_SCAN) != 0 || b == NULL;
    f->b = b;
    if (!f->scan) {
        f->d = b->scratch;
        f->cap = b->scratch ? b->scratch_cap : 0;
    }
}

/* The end of parsing: malformed JSON, then bad values, are errors of the frame. */
static liq_status reject(fstate *f, liq_status st)
{
    if (!f->scan) {
        f->b->stats.rejected++;
        liq_book_trim(f->b);   /* a huge frame refused half-way does not pin the scratch it grew */
    }
    return st;
}

static liq_status value_error(fstate *f)
{
    liq_frame_result *r = f->r;
    /* an ask's index counts after all bids (bids are applied first) */
    r->error_at = f->val_side == LIQ_ASK ? r->bids + f->val_idx : f->val_idx;
    return reject(f, f->val_st);
}

/* ---- Binance --------------------------------------------------------------- */

enum {
    BK_E = 1 << 0, BK_EE = 1 << 1, BK_S = 1 << 2, BK_UU = 1 << 3, BK_U = 1 << 4, BK_PU = 1 << 5,
    BK_T = 1 << 6, BK_B = 1 << 7, BK_A = 1 << 8, BK_STREAM = 1 << 9, BK_DATA = 1 << 10,
    BK_LID = 1 << 11, BK_BIDS = 1 << 12, BK_ASKS = 1 << 13
};

typedef struct bstate {
    unsigned seen;         /* the payload's known keys (BK_*) */
    int is_depth;          /* "e" == "depthUpdate" */
    int b_levels, a_levels;/* "b"/"a" (or "bids"/"asks") were level arrays */
    int wrapped;           /* the top object has "data": a wrapper, the payload is that value */
    size_t stream_bad;     /* 1 + offset of a top "stream" that is not a string; 0: none */
} bstate;

/* Forget what was read as the payload so far: the top object turned out to be a wrapper
 * (its "stream" stays: it is the wrapper's). */
static void payload_reset(fstate *f, bstate *bs)
{
    liq_frame_result *r = f->r;
    size_t so = r->stream_off, sl = r->stream_len;
    result_init(r);
    r->stream_off = so;
    r->stream_len = sl;
    f->nd = 0;
    f->bid_at = f->ask_at = 0;
    f->bids_seen = f->asks_seen = 0;
    f->val_st = LIQ_OK;
    f->bad_type = 0;
    if (bs->stream_bad) bad_type(f, bs->stream_bad - 1);
    bs->seen = 0;
    bs->is_depth = bs->b_levels = bs->a_levels = 0;
    if (f->route) {              /* a route taken from the wrapper's own "s" is not the payload's */
        f->b = NULL;
        f->scan = 1;
        f->d = NULL;
        f->cap = 0;
        f->late = NULL;
    }
}

/* The payload's "s" was read (routed frames): bind the book the resolver gives. Levels read
 * before it were only scanned: then the frame is applied by a second parse (f->late). */
static void bind_route(fstate *f, const cur *c, bstate *bs)
{
    liq_frame_result *r = f->r;
    if ((bs->seen & BK_E) && !bs->is_depth) return;   /* a trade, a bookTicker: not routed */
    liq_book *b = f->route(f->route_ctx, c->s + r->sym_off, r->sym_len, c->esc);
    if (!b) return;
    if (f->bids_seen || f->asks_seen || f->val_st != LIQ_OK) { f->late = b; return; }
    f->b = b;
    f->scan = 0;
    f->d = b->scratch;
    f->cap = b->scratch ? b->scratch_cap : 0;
}

/*
 * One object of a Binance frame: the payload, or (top) an object that may be a combined
 * stream's wrapper {"stream":"..","data":{payload}}. A top object with "data" is a wrapper
 * whatever else it holds, as msg.get("data", msg) reads it: its payload is the value of
 * "data" (not an object: a frame of another kind) and its other keys are not the payload's
 * (read before "data": forgotten; after it: skipped). A key repeated within one object is
 * malformed.
 */
static int binance_obj(cur *c, fstate *f, bstate *bs, int depth, int top)
{
    liq_frame_result *r = f->r;
    unsigned here = 0;
    if (depth > LIQ_FRAME_MAX_DEPTH || expect(c, '{')) return -1;
    if (peek(c) == '}') { c->i++; return 0; }
    for (;;) {
        size_t ko, kl, vo, vl, cnt;
        const char *k;
        char kb[TEXT_BUF];
        unsigned bit = 0;
        if (key(c, &ko, &k, &kl, kb)) return -1;
        int rc = 0;
        ws(c);
        if (kl == 1) {
            switch (k[0]) {
            case 'e': bit = BK_E; break;
            case 'E': bit = BK_EE; break;
            case 's': bit = BK_S; break;
            case 'U': bit = BK_UU; break;
            case 'u': bit = BK_U; break;
            case 'T': bit = BK_T; break;
            case 'b': bit = BK_B; break;
            case 'a': bit = BK_A; break;
            default: break;
            }
        } else if (KEY("pu")) bit = BK_PU;
        else if (KEY("bids")) bit = BK_BIDS;
        else if (KEY("asks")) bit = BK_ASKS;
        else if (KEY("lastUpdateId")) bit = BK_LID;
        else if (top && KEY("stream")) bit = BK_STREAM;
        else if (top && KEY("data")) bit = BK_DATA;
        if (bit & here) { c->i = ko; return fail(c); }
        here |= bit;
        if (top && bs->wrapped && !(bit & (BK_STREAM | BK_DATA))) bit = 0;   /* the wrapper's own key */
        bs->seen |= bit & ~(unsigned)(BK_STREAM | BK_DATA);
        switch (bit) {
        case BK_E:
            if (peek(c) == '"') {
                char vb[TEXT_BUF];
                size_t tl;
                rc = str(c, &vo, &vl);
                if (!rc) {
                    const char *t = text(c, vo, vl, c->esc, vb, &tl);
                    bs->is_depth = text_is(t, tl, "depthUpdate", 11);
                }
            } else {
                rc = skip(c, depth + 1);
            }
            break;
        case BK_EE: rc = int_field(c, f, &r->event_ms, LIQ_FRAME_HAS_EVENT, depth + 1); break;
        case BK_T: rc = int_field(c, f, &r->txn_ms, LIQ_FRAME_HAS_TXN, depth + 1); break;
        case BK_UU: rc = int_field(c, f, &r->first_id, LIQ_FRAME_HAS_FIRST, depth + 1); break;
        /* u and lastUpdateId: never both in a frame that is applied (see the callers) */
        case BK_U: case BK_LID: rc = int_field(c, f, &r->last_id, LIQ_FRAME_HAS_LAST, depth + 1); break;
        case BK_PU: rc = int_field(c, f, &r->prev_id, LIQ_FRAME_HAS_PREV, depth + 1); break;
        case BK_S:
            rc = str_field(c, f, &r->sym_off, &r->sym_len, depth + 1);
            if (rc == 0 && f->route && !f->bad_type && r->sym_len && !(top && bs->wrapped)) bind_route(f, c, bs);
            break;
        case BK_STREAM:
            if (peek(c) == '"') {
                rc = str(c, &r->stream_off, &r->stream_len);
            } else {
                bs->stream_bad = c->i + 1;
                bad_type(f, c->i);
                rc = skip(c, depth + 1);
            }
            break;
        case BK_B: case BK_BIDS:
            f->bid_at = f->nd;
            rc = levels(c, f, LIQ_BID, &cnt, depth + 1);
            if (rc == 0) { r->bids = cnt; bs->b_levels = 1; f->bids_seen = 1; }
            break;
        case BK_A: case BK_ASKS:
            f->ask_at = f->nd;
            rc = levels(c, f, LIQ_ASK, &cnt, depth + 1);
            if (rc == 0) { r->asks = cnt; bs->a_levels = 1; f->asks_seen = 1; }
            break;
        case BK_DATA:
            payload_reset(f, bs);
            bs->wrapped = 1;
            if (peek(c) == '{') rc = binance_obj(c, f, bs, depth + 1, 0);
            else rc = skip(c, depth + 1);   /* a payload of another kind: nothing of it is read */
            break;
        default:
            rc = skip(c, depth + 1);
        }
        if (rc < 0) return -1;
        char ch = peek(c);
        if (ch == ',') { c->i++; continue; }
        if (ch == '}') { c->i++; return 0; }
        return fail(c);
    }
}

/* Parse a whole Binance frame: 0 or -1 (malformed; r->error_at set). */
static int binance_parse(cur *c, fstate *f, bstate *bs)
{
    if (binance_obj(c, f, bs, 1, 1)) { f->r->error_at = c->err_at; return -1; }
    if (!at_end(c)) { fail(c); f->r->error_at = c->err_at; return -1; }
    return 0;
}

/* One Binance frame parsed as a depthUpdate (f initialised): its checks, then the apply
 * (unless scanning). */
static liq_status binance_depth(fstate *f, const char *buf, size_t n)
{
    liq_frame_result *r = f->r;
    bstate bstate_;
    bstate *bs = &bstate_;
    cur c = {buf, n, 0, 0, 0};
    memset(bs, 0, sizeof *bs);
    if (binance_parse(&c, f, bs)) return reject(f, LIQ_ERR_FORMAT);
    if (!bs->is_depth) {
        r->kind = LIQ_FRAME_OTHER;
        r->bids = r->asks = 0;
        return LIQ_OK;
    }
    r->kind = LIQ_FRAME_DEPTH;
    if (f->bad_type || !bs->b_levels || !bs->a_levels || (bs->seen & (BK_BIDS | BK_ASKS | BK_LID)) ||
        !(r->present & LIQ_FRAME_HAS_FIRST) || !(r->present & LIQ_FRAME_HAS_LAST)) {
        r->error_at = f->bad_type ? f->bad_at : n;
        return reject(f, LIQ_ERR_FORMAT);
    }
    if (f->val_st != LIQ_OK) return value_error(f);
    if (f->scan) return LIQ_OK;
    bids_first(f);
    if (!deltas(f)) return reject(f, LIQ_ERR_NOMEM);
    liq_seq_ids ids = {r->first_id, r->last_id, r->prev_id};
    size_t nd = f->nd, bad = nd;
    liq_status st = liq_book_apply_seq(f->b, f->d, nd, ids, &bad);
    if (st < 0 && bad < nd) r->error_at = bad;
    return st;
}

liq_status liq_frame_binance_depth(liq_book *b, const char *buf, size_t n, unsigned flags,
                                   liq_frame_result *r)
{
    fstate f;
    init(&f, b, flags, r);
    return binance_depth(&f, buf, n);
}

/* A frame parsed with a router (`parse` in scan mode until the router binds a book); a book bound
 * after levels were read (f.late) takes the frame by the direct call with it, which applies it or
 * refuses it with the direct call's status (the scan alone may have stopped at another level's
 * error first). */
static liq_status routed(liq_status (*parse)(fstate *, const char *, size_t),
                         liq_status (*direct)(liq_book *, const char *, size_t, unsigned, liq_frame_result *),
                         liq_frame_router route, void *ctx, const char *buf, size_t n, liq_frame_result *r)
{
    fstate f;
    if (!route) { result_init(r); return LIQ_ERR_ARG; }
    init(&f, NULL, LIQ_FRAME_SCAN, r);
    f.route = route;
    f.route_ctx = ctx;
    liq_status st = parse(&f, buf, n);
    if (f.late)
        return direct(f.late, buf, n, 0, r);
    return st;
}

liq_status liq_frame_binance_depth_routed(liq_frame_router route, void *ctx, const char *buf, size_t n,
                                          liq_frame_result *r)
{
    return routed(binance_depth, liq_frame_binance_depth, route, ctx, buf, n, r);   /* "s" after the levels: again */
}

liq_status liq_frame_binance_snapshot(liq_book *b, const char *buf, size_t n, unsigned flags,
                                      liq_frame_result *r)
{
    fstate f;
    bstate bs;
    cur c = {buf, n, 0, 0, 0};
    memset(&bs, 0, sizeof bs);
    init(&f, b, flags, r);
    if (binance_parse(&c, &f, &bs)) return reject(&f, LIQ_ERR_FORMAT);
    if (!(bs.seen & BK_LID)) {
        r->kind = LIQ_FRAME_OTHER;
        r->bids = r->asks = 0;
        return LIQ_OK;
    }
    r->kind = LIQ_FRAME_SNAPSHOT;
    /* a depthUpdate's keys in a snapshot are malformed, as a snapshot's are in a depthUpdate */
    if (f.bad_type || !(bs.seen & BK_BIDS) || !(bs.seen & BK_ASKS) || !bs.b_levels || !bs.a_levels ||
        (bs.seen & (BK_B | BK_A | BK_UU | BK_U | BK_PU)) || !(r->present & LIQ_FRAME_HAS_LAST)) {
        r->error_at = f.bad_type ? f.bad_at : n;
        return reject(&f, LIQ_ERR_FORMAT);
    }
    if (f.val_st != LIQ_OK) return value_error(&f);
    if (f.scan) return LIQ_OK;
    bids_first(&f);
    size_t nd = f.nd, bad = nd;
    if (!deltas(&f)) return reject(&f, LIQ_ERR_NOMEM);
    liq_status st = liq_book_snapshot(b, f.d, nd, r->last_id, &bad);
    if (st < 0 && bad < nd) r->error_at = bad;
    return st;
}

/* ---- OKX ------------------------------------------------------------------- */

enum {
    OK_ARG = 1 << 0, OK_ACTION = 1 << 1, OK_DATA = 1 << 2,
    OK_CHANNEL = 1 << 3, OK_INST = 1 << 4,
    OK_ASKS = 1 << 5, OK_BIDS = 1 << 6, OK_TS = 1 << 7, OK_CHECKSUM = 1 << 8, OK_SEQ = 1 << 9,
    OK_PREV = 1 << 10
};

typedef struct ostate {
    unsigned seen;
    int action;            /* 0 absent/other, LIQ_FRAME_SNAPSHOT, LIQ_FRAME_UPDATE */
    int channel_esc;       /* "channel" is written with escapes */
    int data_obj;          /* "data" was an array whose first element was parsed as book data */
    size_t data_len;       /* elements in "data" */
    int data_bad;          /* the first element was not book data */
    int inst_esc;          /* "instId" is written with escapes */
    int routed;            /* the resolver was asked (routed frames: once) */
} ostate;

static int okx_arg(cur *c, fstate *f, ostate *os, int depth)
{
    liq_frame_result *r = f->r;
    if (expect(c, '{')) return -1;
    if (peek(c) == '}') { c->i++; return 0; }
    for (;;) {
        size_t ko, kl;
        const char *k;
        char kb[TEXT_BUF];
        unsigned bit = 0;
        int rc;
        if (key(c, &ko, &k, &kl, kb)) return -1;
        if (KEY("channel")) bit = OK_CHANNEL;
        else if (KEY("instId")) bit = OK_INST;
        if (bit & os->seen) { c->i = ko; return fail(c); }
        os->seen |= bit;
        if (bit == OK_CHANNEL) {
            rc = str_field(c, f, &r->stream_off, &r->stream_len, depth + 1);
            os->channel_esc = c->esc;
        } else if (bit == OK_INST) {
            rc = str_field(c, f, &r->sym_off, &r->sym_len, depth + 1);
            os->inst_esc = c->esc;
        } else {
            rc = skip(c, depth + 1);
        }
        if (rc) return -1;
        char ch = peek(c);
        if (ch == ',') { c->i++; continue; }
        if (ch == '}') { c->i++; return 0; }
        return fail(c);
    }
}

/* The book data object ({"asks", "bids", "ts", "checksum", "seqId", "prevSeqId"}):
 * 0 parsed, 1 not an object of that shape (skipped), -1 malformed. */
static int okx_data(cur *c, fstate *f, ostate *os, int depth)
{
    liq_frame_result *r = f->r;
    if (peek(c) != '{') return skip(c, depth) ? -1 : 1;
    c->i++;
    if (peek(c) == '}') { c->i++; return 0; }
    for (;;) {
        size_t ko, kl, vo, vl, cnt, tl;
        const char *k;
        char kb[TEXT_BUF], vb[TEXT_BUF];
        unsigned bit = 0;
        int rc = 0;
        int64_t v;
        if (key(c, &ko, &k, &kl, kb)) return -1;
        if (KEY("asks")) bit = OK_ASKS;
        else if (KEY("bids")) bit = OK_BIDS;
        else if (KEY("ts")) bit = OK_TS;
        else if (KEY("checksum")) bit = OK_CHECKSUM;
        else if (KEY("seqId")) bit = OK_SEQ;
        else if (KEY("prevSeqId")) bit = OK_PREV;
        if (bit & os->seen) { c->i = ko; return fail(c); }
        os->seen |= bit;
        ws(c);
        size_t at = c->i;
        switch (bit) {
        case OK_ASKS:
            f->ask_at = f->nd;
            rc = levels(c, f, LIQ_ASK, &cnt, depth + 1);
            if (rc == 0) { r->asks = cnt; f->asks_seen = 1; }
            else if (rc > 0) { bad_type(f, at); rc = 0; }
            break;
        case OK_BIDS:
            f->bid_at = f->nd;
            rc = levels(c, f, LIQ_BID, &cnt, depth + 1);
            if (rc == 0) { r->bids = cnt; f->bids_seen = 1; }
            else if (rc > 0) { bad_type(f, at); rc = 0; }
            break;
        case OK_TS:
            if (peek(c) == '"') {
                rc = str(c, &vo, &vl);
                if (!rc) {
                    const char *t = text(c, vo, vl, c->esc, vb, &tl);
                    if (tl == SIZE_MAX || digits_i64(t, tl, &r->event_ms)) bad_type(f, at);
                    else r->present |= LIQ_FRAME_HAS_EVENT;
                }
            } else {
                rc = int_field(c, f, &r->event_ms, LIQ_FRAME_HAS_EVENT, depth + 1);
            }
            break;
        case OK_CHECKSUM:
            rc = int_field(c, f, &v, 0, depth + 1);
            if (!rc && !f->bad_type) {
                if (v < INT32_MIN || v > (int64_t)UINT32_MAX) bad_type(f, at);
                else { r->has_checksum = 1; r->checksum = (int32_t)(uint32_t)v; }
            }
            break;
        case OK_SEQ: rc = int_field(c, f, &r->last_id, LIQ_FRAME_HAS_LAST, depth + 1); break;
        case OK_PREV: rc = int_field(c, f, &r->prev_id, LIQ_FRAME_HAS_PREV, depth + 1); break;
        default: rc = skip(c, depth + 1);
        }
        if (rc) return -1;
        char ch = peek(c);
        if (ch == ',') { c->i++; continue; }
        if (ch == '}') { c->i++; return 0; }
        return fail(c);
    }
}

static int okx_channel(const cur *c, const liq_frame_result *r, int esc);

/* Routed OKX frames (liq_frame_okx_books_routed): an update of a book channel is bound to the
 * book the resolver gives for its instId, asked once, when "data" starts after "arg" and
 * "action" (OKX's order), else after the whole frame was parsed; levels read before the book
 * was bound were only scanned: then the frame is applied by a second parse (f->late). */
static void okx_bind(const cur *c, fstate *f, ostate *os, int parsed)
{
    liq_frame_result *r = f->r;
    if (!f->route || f->b || os->routed || !(os->seen & OK_INST) || !(os->seen & OK_CHANNEL) ||
        os->action != LIQ_FRAME_UPDATE || !okx_channel(c, r, os->channel_esc))
        return;
    os->routed = 1;
    liq_book *b = f->route(f->route_ctx, c->s + r->sym_off, r->sym_len, os->inst_esc);
    if (!b) return;
    if (parsed || f->bids_seen || f->asks_seen || f->val_st != LIQ_OK) { f->late = b; return; }
    f->b = b;
    f->scan = 0;
    f->d = b->scratch;
    f->cap = b->scratch ? b->scratch_cap : 0;
}

static int okx_obj(cur *c, fstate *f, ostate *os)
{
    if (expect(c, '{')) return -1;
    if (peek(c) == '}') { c->i++; return 0; }
    for (;;) {
        size_t ko, kl, vo, vl, tl;
        const char *k;
        char kb[TEXT_BUF], vb[TEXT_BUF];
        unsigned bit = 0;
        int rc = 0;
        if (key(c, &ko, &k, &kl, kb)) return -1;
        if (KEY("arg")) bit = OK_ARG;
        else if (KEY("action")) bit = OK_ACTION;
        else if (KEY("data")) bit = OK_DATA;
        if (bit & os->seen) { c->i = ko; return fail(c); }
        os->seen |= bit;
        ws(c);
        size_t at = c->i;
        switch (bit) {
        case OK_ARG:
            if (peek(c) == '{') rc = okx_arg(c, f, os, 2);
            else { bad_type(f, at); rc = skip(c, 2); }
            break;
        case OK_ACTION:
            if (peek(c) == '"') {
                rc = str(c, &vo, &vl);
                if (!rc) {
                    const char *t = text(c, vo, vl, c->esc, vb, &tl);
                    if (text_is(t, tl, "snapshot", 8)) os->action = LIQ_FRAME_SNAPSHOT;
                    else if (text_is(t, tl, "update", 6)) os->action = LIQ_FRAME_UPDATE;
                }
            } else {
                rc = skip(c, 2);
            }
            break;
        case OK_DATA:
            if (peek(c) != '[') { bad_type(f, at); rc = skip(c, 2); break; }
            okx_bind(c, f, os, 0);
            c->i++;
            if (peek(c) == ']') { c->i++; break; }
            for (;;) {
                if (os->data_len == 0) {
                    rc = okx_data(c, f, os, 3);
                    if (rc > 0) { os->data_bad = 1; rc = 0; }
                    else if (rc == 0) os->data_obj = 1;
                } else {
                    rc = skip(c, 3);
                }
                if (rc) return -1;
                os->data_len++;
                char ch = peek(c);
                if (ch == ',') { c->i++; continue; }
                if (ch == ']') { c->i++; break; }
                return fail(c);
            }
            break;
        default: rc = skip(c, 2);
        }
        if (rc) return -1;
        char ch = peek(c);
        if (ch == ',') { c->i++; continue; }
        if (ch == '}') { c->i++; return 0; }
        return fail(c);
    }
}

/* One of the order-book channels (the channel's text: escapes decoded). */
static int okx_channel(const cur *c, const liq_frame_result *r, int esc)
{
    char buf[TEXT_BUF];
    size_t tl;
    const char *t = text(c, r->stream_off, r->stream_len, esc, buf, &tl);
    return text_is(t, tl, "books", 5) || text_is(t, tl, "books-l2-tbt", 12) || text_is(t, tl, "books50-l2-tbt", 14)
        || text_is(t, tl, "books-rpi", 9);
}

/* One OKX books frame through the state `fs` (a book, scan mode, or a router); a routed frame
 * bound too late comes back with fs->late set, unapplied. */
static liq_status okx_books(fstate *fs, const char *buf, size_t n)
{
    fstate f = *fs;
    liq_frame_result *r = f.r;
    ostate os;
    cur c = {buf, n, 0, 0, 0};
    memset(&os, 0, sizeof os);
    if (okx_obj(&c, &f, &os) || (!at_end(&c) && fail(&c))) {
        r->error_at = c.err_at;
        return reject(&f, LIQ_ERR_FORMAT);
    }
    okx_bind(&c, &f, &os, 1);        /* routed, "data" before "arg" or "action": parsed again */
    if (f.late) { fs->late = f.late; return LIQ_OK; }
    liq_book *b = f.b;
    if (!(os.seen & OK_ARG) || !(os.seen & OK_CHANNEL) || !okx_channel(&c, r, os.channel_esc) || !os.action ||
        !(os.seen & OK_DATA)) {
        r->kind = LIQ_FRAME_OTHER;
        r->bids = r->asks = 0;
        r->has_checksum = 0;
        r->last_id = r->prev_id = r->event_ms = LIQ_ID_NONE;
        r->present = 0;
        return LIQ_OK;
    }
    r->kind = os.action;
    if (f.bad_type || !(os.seen & OK_INST) || os.data_len != 1 || os.data_bad || !os.data_obj) {
        r->error_at = f.bad_type ? f.bad_at : n;
        return reject(&f, LIQ_ERR_FORMAT);
    }
    if (f.val_st != LIQ_OK) return value_error(&f);
    if (f.scan) return LIQ_OK;
    int verify = r->has_checksum && r->checksum != 0;
    if (verify && b->max_depth && b->max_depth < LIQ_CHECKSUM_OKX_LEVELS) {
        r->error_at = n;
        return reject(&f, LIQ_ERR_DEPTH);
    }
    bids_first(&f);
    size_t nd = f.nd, bad = nd;
    liq_status st;
    if (!deltas(&f)) return reject(&f, LIQ_ERR_NOMEM);
    if (os.action == LIQ_FRAME_SNAPSHOT) {
        st = liq_book_snapshot(b, f.d, nd, r->last_id, &bad);
    } else {
        liq_seq_ids ids = {LIQ_ID_NONE, r->last_id, r->prev_id};
        /* without ids, a plain apply, as apply_levels does (the sequence state stays as is) */
        if (!(r->present & (LIQ_FRAME_HAS_LAST | LIQ_FRAME_HAS_PREV))) st = liq_book_apply(b, f.d, nd, &bad);
        else st = liq_book_apply_seq(b, f.d, nd, ids, &bad);
    }
    if (st != LIQ_OK) {
        if (st < 0 && bad < nd) r->error_at = bad;
        return st;
    }
    if (r->has_checksum && !verify) { r->check = LIQ_CHECK_ABSENT; return LIQ_OK; }
    if (!verify) return LIQ_OK;
    uint32_t crc;
    st = liq_book_checksum(b, LIQ_CHECKSUM_OKX, &crc);
    if (st != LIQ_OK) return st;   /* not reached: depth checked above */
    r->computed = crc;
    if (crc != (uint32_t)r->checksum) { r->check = LIQ_CHECK_MISMATCH; return LIQ_ERR_CHECKSUM; }
    r->check = LIQ_CHECK_OK;
    return LIQ_OK;
}

liq_status liq_frame_okx_books(liq_book *b, const char *buf, size_t n, unsigned flags, liq_frame_result *r)
{
    fstate f;
    init(&f, b, flags, r);
    return okx_books(&f, buf, n);
}

liq_status liq_frame_okx_books_routed(liq_frame_router route, void *ctx, const char *buf, size_t n,
                                      liq_frame_result *r)
{
    return routed(okx_books, liq_frame_okx_books, route, ctx, buf, n, r);   /* "data" before "arg": again */
}
