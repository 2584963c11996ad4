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

/* next non-blank byte, or 0 at the end */
static inline char peek(cur *c)
{
    ws(c);
    return c->i < c->n ? c->s[c->i] : 0;
}

static inline int expect(cur *c, char ch)
{
    if (peek(c) != ch) return fail(c);
    c->i++;
    return 0;
}

/* Non-zero when one of the 8 bytes of w is '"', '\\' or a control byte (< 0x20): the
 * classic "has a zero byte" bit trick on w ^ pattern; bytes >= 0x80 are excluded by ~w. */
static inline uint64_t special8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    return (((q - ones) & ~q) | ((bs - ones) & ~bs) | (w - ones * 0x20)) & ~w & high;
}

static int hexdig(char ch)
{
    return (ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'f');
}

/* A JSON string at the cursor (after blanks); *off and *len: the raw bytes inside the quotes
 * (escapes validated, not decoded). */
static int str(cur *c, size_t *off, size_t *len)
{
    if (peek(c) != '"') return fail(c);
    size_t i = ++c->i;
    const char *s = c->s;
    size_t n = c->n;
    for (;;) {
        /* the common case, plain bytes: 8 at a time while they last, then one by one */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (special8(w)) break;
            i += 8;
        }
        while (i < n && s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20) i++;
        if (i >= n || (unsigned char)s[i] < 0x20) { c->i = i; return fail(c); }
        if (s[i] == '"') break;
        /* escape */
        if (i + 1 >= n) { c->i = i; return fail(c); }
        char e = s[i + 1];
        if (e == 'u') {
            if (i + 5 >= n || !hexdig(s[i + 2]) || !hexdig(s[i + 3]) || !hexdig(s[i + 4]) || !hexdig(s[i + 5])) {
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
    return 0;
}

static inline int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* A JSON number (grammar only). */
static int number(cur *c)
{
    const char *s = c->s;
    size_t n = c->n, i = c->i;
    if (i < n && s[i] == '-') i++;
    if (i >= n || !is_digit(s[i])) { c->i = i; return fail(c); }
    if (s[i] == '0') i++;
    else while (i < n && is_digit(s[i])) i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i])) { c->i = i; return fail(c); }
        while (i < n && is_digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !is_digit(s[i])) { c->i = i; return fail(c); }
        while (i < n && is_digit(s[i])) i++;
    }
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

/* Digits only, as OKX writes "ts" */
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

static inline int key_is(const cur *c, size_t off, size_t len, const char *k, size_t klen)
{
    return len == klen && memcmp(c->s + off, k, klen) == 0;
}
#define KEY(name) key_is(c, ko, kl, name, sizeof(name) - 1)

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

/* Known-key value helpers: an integer, or a type mismatch noted (value skipped). */
static int int_field(cur *c, fstate *f, int64_t *v, int depth)
{
    size_t at = (ws(c), c->i);
    if (integer(c, v) == 0) return 0;
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

static void init(fstate *f, liq_book *b, unsigned flags, liq_frame_result *r)
{
    memset(r, 0, sizeof *r);
    r->first_id = r->last_id = r->prev_id = r->event_ms = r->txn_ms = LIQ_ID_NONE;
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
    if (!f->scan) f->b->stats.rejected++;
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
    unsigned seen;
    int is_depth;          /* "e" == "depthUpdate" */
    int b_levels, a_levels;/* "b"/"a" (or "bids"/"asks") were level arrays */
} bstate;

/* One object of a Binance frame: the payload, or (top) a combined-stream wrapper whose
 * "data" is the payload. Keys of both land in the same state; a repeat is malformed. */
static int binance_obj(cur *c, fstate *f, bstate *bs, int depth, int top)
{
    liq_frame_result *r = f->r;
    if (depth > LIQ_FRAME_MAX_DEPTH || expect(c, '{')) return -1;
    if (peek(c) == '}') { c->i++; return 0; }
    for (;;) {
        size_t ko, kl, vo, vl, cnt;
        unsigned bit = 0;
        if (str(c, &ko, &kl) || expect(c, ':')) return -1;
        size_t kat = ko;
        int rc = 0;
        ws(c);
        if (kl == 1) {
            switch (c->s[ko]) {
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
        if (bit & bs->seen) { c->i = kat; return fail(c); }
        bs->seen |= bit;
        switch (bit) {
        case BK_E:
            if (peek(c) == '"') {
                rc = str(c, &vo, &vl);
                bs->is_depth = !rc && vl == 11 && memcmp(c->s + vo, "depthUpdate", 11) == 0;
            } else {
                rc = skip(c, depth + 1);
            }
            break;
        case BK_EE: rc = int_field(c, f, &r->event_ms, depth + 1); break;
        case BK_T: rc = int_field(c, f, &r->txn_ms, depth + 1); break;
        case BK_UU: rc = int_field(c, f, &r->first_id, depth + 1); break;
        case BK_U: case BK_LID: rc = int_field(c, f, &r->last_id, depth + 1); break;
        case BK_PU: rc = int_field(c, f, &r->prev_id, depth + 1); break;
        case BK_S: rc = str_field(c, f, &r->sym_off, &r->sym_len, depth + 1); break;
        case BK_STREAM: rc = str_field(c, f, &r->stream_off, &r->stream_len, depth + 1); break;
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
            if (peek(c) == '{') rc = binance_obj(c, f, bs, depth + 1, 0);
            else rc = skip(c, depth + 1);
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
    if (peek(c) != 0) { fail(c); f->r->error_at = c->err_at; return -1; }
    return 0;
}

liq_status liq_frame_binance_depth(liq_book *b, const char *buf, size_t n, unsigned flags,
                                   liq_frame_result *r)
{
    fstate f;
    bstate bs = {0, 0, 0, 0};
    cur c = {buf, n, 0, 0};
    init(&f, b, flags, r);
    if (binance_parse(&c, &f, &bs)) return reject(&f, LIQ_ERR_FORMAT);
    if (!bs.is_depth) {
        r->kind = LIQ_FRAME_OTHER;
        r->bids = r->asks = 0;
        return LIQ_OK;
    }
    r->kind = LIQ_FRAME_DEPTH;
    if (f.bad_type || !bs.b_levels || !bs.a_levels || (bs.seen & (BK_BIDS | BK_ASKS | BK_LID)) ||
        r->first_id == LIQ_ID_NONE || r->last_id == LIQ_ID_NONE) {
        r->error_at = f.bad_type ? f.bad_at : n;
        return reject(&f, LIQ_ERR_FORMAT);
    }
    if (f.val_st != LIQ_OK) return value_error(&f);
    if (f.scan) return LIQ_OK;
    bids_first(&f);
    if (!deltas(&f)) return reject(&f, LIQ_ERR_NOMEM);
    liq_seq_ids ids = {r->first_id, r->last_id, r->prev_id};
    size_t nd = f.nd, bad = nd;
    liq_status st = liq_book_apply_seq(b, f.d, nd, ids, &bad);
    if (st < 0 && bad < nd) r->error_at = bad;
    return st;
}

liq_status liq_frame_binance_snapshot(liq_book *b, const char *buf, size_t n, unsigned flags,
                                      liq_frame_result *r)
{
    fstate f;
    bstate bs = {0, 0, 0, 0};
    cur c = {buf, n, 0, 0};
    init(&f, b, flags, r);
    if (binance_parse(&c, &f, &bs)) return reject(&f, LIQ_ERR_FORMAT);
    if (!(bs.seen & BK_LID)) {
        r->kind = LIQ_FRAME_OTHER;
        r->bids = r->asks = 0;
        return LIQ_OK;
    }
    r->kind = LIQ_FRAME_SNAPSHOT;
    if (f.bad_type || !(bs.seen & BK_BIDS) || !(bs.seen & BK_ASKS) || !bs.b_levels || !bs.a_levels ||
        (bs.seen & (BK_B | BK_A)) || r->last_id == LIQ_ID_NONE) {
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
    int data_obj;          /* "data" was an array whose first element was parsed as book data */
    size_t data_len;       /* elements in "data" */
    int data_bad;          /* the first element was not book data */
} ostate;

static int okx_arg(cur *c, fstate *f, ostate *os, int depth)
{
    liq_frame_result *r = f->r;
    if (expect(c, '{')) return -1;
    if (peek(c) == '}') { c->i++; return 0; }
    for (;;) {
        size_t ko, kl;
        unsigned bit = 0;
        int rc;
        if (str(c, &ko, &kl) || expect(c, ':')) return -1;
        if (KEY("channel")) bit = OK_CHANNEL;
        else if (KEY("instId")) bit = OK_INST;
        if (bit & os->seen) { c->i = ko; return fail(c); }
        os->seen |= bit;
        if (bit == OK_CHANNEL) rc = str_field(c, f, &r->stream_off, &r->stream_len, depth + 1);
        else if (bit == OK_INST) rc = str_field(c, f, &r->sym_off, &r->sym_len, depth + 1);
        else rc = skip(c, depth + 1);
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
        size_t ko, kl, vo, vl, cnt;
        unsigned bit = 0;
        int rc = 0;
        int64_t v;
        if (str(c, &ko, &kl) || expect(c, ':')) return -1;
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
                if (!rc && digits_i64(c->s + vo, vl, &r->event_ms)) bad_type(f, at);
            } else {
                rc = int_field(c, f, &r->event_ms, depth + 1);
            }
            break;
        case OK_CHECKSUM:
            rc = int_field(c, f, &v, depth + 1);
            if (!rc && !f->bad_type) {
                if (v < INT32_MIN || v > (int64_t)UINT32_MAX) bad_type(f, at);
                else { r->has_checksum = 1; r->checksum = (int32_t)(uint32_t)v; }
            }
            break;
        case OK_SEQ: rc = int_field(c, f, &r->last_id, depth + 1); break;
        case OK_PREV: rc = int_field(c, f, &r->prev_id, depth + 1); break;
        default: rc = skip(c, depth + 1);
        }
        if (rc) return -1;
        char ch = peek(c);
        if (ch == ',') { c->i++; continue; }
        if (ch == '}') { c->i++; return 0; }
        return fail(c);
    }
}

static int okx_obj(cur *c, fstate *f, ostate *os)
{
    if (expect(c, '{')) return -1;
    if (peek(c) == '}') { c->i++; return 0; }
    for (;;) {
        size_t ko, kl, vo, vl;
        unsigned bit = 0;
        int rc = 0;
        if (str(c, &ko, &kl) || expect(c, ':')) return -1;
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
                if (!rc && vl == 8 && memcmp(c->s + vo, "snapshot", 8) == 0) os->action = LIQ_FRAME_SNAPSHOT;
                else if (!rc && vl == 6 && memcmp(c->s + vo, "update", 6) == 0) os->action = LIQ_FRAME_UPDATE;
            } else {
                rc = skip(c, 2);
            }
            break;
        case OK_DATA:
            if (peek(c) != '[') { bad_type(f, at); rc = skip(c, 2); break; }
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

static int okx_channel(const char *s, size_t n)
{
    return (n == 5 && memcmp(s, "books", 5) == 0) || (n == 12 && memcmp(s, "books-l2-tbt", 12) == 0) ||
           (n == 14 && memcmp(s, "books50-l2-tbt", 14) == 0);
}

liq_status liq_frame_okx_books(liq_book *b, const char *buf, size_t n, unsigned flags, liq_frame_result *r)
{
    fstate f;
    ostate os;
    cur c = {buf, n, 0, 0};
    memset(&os, 0, sizeof os);
    init(&f, b, flags, r);
    if (okx_obj(&c, &f, &os) || (peek(&c) != 0 && fail(&c))) {
        r->error_at = c.err_at;
        return reject(&f, LIQ_ERR_FORMAT);
    }
    if (!(os.seen & OK_ARG) || !okx_channel(buf + r->stream_off, r->stream_len) || !os.action ||
        !(os.seen & OK_DATA)) {
        r->kind = LIQ_FRAME_OTHER;
        r->bids = r->asks = 0;
        r->has_checksum = 0;
        r->last_id = r->prev_id = r->event_ms = LIQ_ID_NONE;
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
        if (r->last_id == LIQ_ID_NONE && r->prev_id == LIQ_ID_NONE) st = liq_book_apply(b, f.d, nd, &bad);
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
