#include "book.h"

#include <stdlib.h>
#include <string.h>

/* ---- side storage ------------------------------------------------------ */

static liq_status side_grow(liq_side *s, size_t need)
{
    if (need <= s->cap) return LIQ_OK;
    size_t cap = s->cap ? s->cap * 2 : 16;
    if (cap < need) cap = need;
    /* Each realloc either moves the data or fails leaving the old block intact, so
     * a failure part-way leaves every array valid with the old (smaller) cap. */
    int64_t *key = realloc(s->key, cap * sizeof *key);
    if (!key) return LIQ_ERR_NOMEM;
    s->key = key;
    int64_t *qty = realloc(s->qty, cap * sizeof *qty);
    if (!qty) return LIQ_ERR_NOMEM;
    s->qty = qty;
    uint16_t *dec = realloc(s->dec, cap * sizeof *dec);
    if (!dec) return LIQ_ERR_NOMEM;
    s->dec = dec;
    s->cap = cap;
    return LIQ_OK;
}

static void side_free(liq_side *s)
{
    free(s->key);
    free(s->qty);
    free(s->dec);
    memset(s, 0, sizeof *s);
}

/*
 * First index whose key is >= k. Most updates land within a few levels of the
 * touch (the end of the array), so look there first and fall back to bisection.
 */
static inline size_t find_pos(const int64_t *key, size_t n, int64_t k)
{
    size_t i = n, stop = n > 8 ? n - 8 : 0;
    while (i > stop && key[i - 1] >= k) i--;
    if (i > stop || i == 0) return i;
    size_t lo = 0, hi = stop;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key[mid] < k) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static inline void side_remove(liq_side *s, size_t pos)
{
    size_t tail = s->n - pos - 1;
    memmove(s->key + pos, s->key + pos + 1, tail * sizeof *s->key);
    memmove(s->qty + pos, s->qty + pos + 1, tail * sizeof *s->qty);
    memmove(s->dec + pos, s->dec + pos + 1, tail * sizeof *s->dec);
    s->n--;
}

/* Caller guarantees cap > n. */
static inline void side_insert(liq_side *s, size_t pos, int64_t k, int64_t q, uint16_t dec)
{
    size_t tail = s->n - pos;
    memmove(s->key + pos + 1, s->key + pos, tail * sizeof *s->key);
    memmove(s->qty + pos + 1, s->qty + pos, tail * sizeof *s->qty);
    memmove(s->dec + pos + 1, s->dec + pos, tail * sizeof *s->dec);
    s->key[pos] = k;
    s->qty[pos] = q;
    s->dec[pos] = dec;
    s->n++;
}

/*
 * Set key k to size q (0 deletes). Writes the previous size (0 if absent) and
 * decimals through old_q and old_dec. Needs cap > n when inserting.
 */
static inline void side_set(liq_side *s, int64_t k, int64_t q, uint16_t dec, int64_t *old_q, uint16_t *old_dec)
{
    size_t pos = find_pos(s->key, s->n, k);
    if (pos < s->n && s->key[pos] == k) {
        *old_q = s->qty[pos];
        *old_dec = s->dec[pos];
        if (q == 0) {
            side_remove(s, pos);
        } else {
            s->qty[pos] = q;
            s->dec[pos] = dec;
        }
    } else {
        *old_q = 0;
        *old_dec = 0;
        if (q != 0) side_insert(s, pos, k, q, dec);
    }
}

static inline int64_t key_of(int side, int64_t px) { return side == LIQ_BID ? px : -px; }
static inline uint16_t dec_of(const liq_delta *d) { return (uint16_t)(d->px_dec << 8 | d->qty_dec); }

/* Drop the worst levels beyond max_depth on both sides. */
static void truncate_depth(liq_book *b)
{
    if (!b->max_depth) return;
    for (int sd = 0; sd < 2; sd++) {
        liq_side *s = &b->side[sd];
        if (s->n <= b->max_depth) continue;
        size_t drop = s->n - b->max_depth;
        memmove(s->key, s->key + drop, b->max_depth * sizeof *s->key);
        memmove(s->qty, s->qty + drop, b->max_depth * sizeof *s->qty);
        memmove(s->dec, s->dec + drop, b->max_depth * sizeof *s->dec);
        s->n = b->max_depth;
        b->stats.truncated_levels += drop;
    }
}

/*
 * Remove the levels of `stale` that cross the best level of the other side.
 * Crossing levels are the stale side's best ones, i.e. the end of its array.
 */
static void drop_crossed(liq_book *b, int stale)
{
    liq_side *st = &b->side[stale];
    const liq_side *fr = &b->side[!stale];
    if (!fr->n) return;
    /* crossed <=> bid key > -ask key; in terms of the stale side's own key: */
    int64_t fresh_best_px = stale == LIQ_BID ? -fr->key[fr->n - 1] : fr->key[fr->n - 1];
    while (st->n) {
        int64_t px = stale == LIQ_BID ? st->key[st->n - 1] : -st->key[st->n - 1];
        int crosses = stale == LIQ_BID ? px > fresh_best_px : px < fresh_best_px;
        if (!crosses) break;
        st->n--;
        b->stats.repaired_levels++;
    }
}

/* ---- lifecycle --------------------------------------------------------- */

liq_status liq_book_init(liq_book *b, int px_scale, int qty_scale, int64_t tick, int64_t lot,
                         size_t max_depth)
{
    if (px_scale < 0 || px_scale > LIQ_MAX_SCALE || qty_scale < 0 || qty_scale > LIQ_MAX_SCALE ||
        tick < 1 || lot < 1)
        return LIQ_ERR_ARG;
    memset(b, 0, sizeof *b);
    b->px_scale = px_scale;
    b->qty_scale = qty_scale;
    b->tick = tick;
    b->lot = lot;
    b->max_depth = max_depth;
    b->cross_policy = LIQ_CROSS_RAISE;
    b->seq_rule = LIQ_SEQ_NONE;
    b->last_id = LIQ_ID_NONE;
    return LIQ_OK;
}

void liq_book_free(liq_book *b)
{
    side_free(&b->side[0]);
    side_free(&b->side[1]);
    free(b->scratch);
    free(b->undo);
    b->scratch = b->undo = NULL;
    b->scratch_cap = b->undo_cap = 0;
}

void liq_book_clear(liq_book *b)
{
    b->side[0].n = b->side[1].n = 0;
    b->last_id = LIQ_ID_NONE;
    b->after_snapshot = 0;
    b->generation++;
}

liq_status liq_book_copy(liq_book *dst, const liq_book *src)
{
    liq_book tmp = *src;
    tmp.scratch = tmp.undo = NULL;
    tmp.scratch_cap = tmp.undo_cap = 0;
    memset(tmp.side, 0, sizeof tmp.side);
    for (int sd = 0; sd < 2; sd++) {
        const liq_side *s = &src->side[sd];
        if (!s->n) continue;
        if (side_grow(&tmp.side[sd], s->n) != LIQ_OK) {
            liq_book_free(&tmp);
            return LIQ_ERR_NOMEM;
        }
        memcpy(tmp.side[sd].key, s->key, s->n * sizeof *s->key);
        memcpy(tmp.side[sd].qty, s->qty, s->n * sizeof *s->qty);
        memcpy(tmp.side[sd].dec, s->dec, s->n * sizeof *s->dec);
        tmp.side[sd].n = s->n;
    }
    *dst = tmp;
    return LIQ_OK;
}

liq_status liq_book_reserve(liq_book *b, int side, size_t n)
{
    if (side != LIQ_BID && side != LIQ_ASK) return LIQ_ERR_SIDE;
    return side_grow(&b->side[side], n);
}

/* ---- validation -------------------------------------------------------- */

liq_status liq_delta_check(const liq_book *b, const liq_delta *d)
{
    if (d->side > 1) return LIQ_ERR_SIDE;
    if (d->px <= 0) return LIQ_ERR_NEGATIVE;
    if (d->qty < 0) return LIQ_ERR_NEGATIVE;
    if (d->px % b->tick) return LIQ_ERR_OFF_GRID;
    if (d->qty % b->lot) return LIQ_ERR_OFF_GRID;
    return LIQ_OK;
}

liq_status liq_delta_from_f64(const liq_book *b, int side, double px, double qty, liq_delta *d)
{
    liq_status st;
    if (side != LIQ_BID && side != LIQ_ASK) return LIQ_ERR_SIDE;
    if ((st = liq_fixed_from_double(px, b->px_scale, &d->px)) != LIQ_OK) return st;
    if ((st = liq_fixed_from_double(qty, b->qty_scale, &d->qty)) != LIQ_OK) return st;
    d->side = (uint8_t)side;
    d->px_dec = d->qty_dec = LIQ_DEC_NONE;
    return liq_delta_check(b, d);
}

/* ---- single update ----------------------------------------------------- */

liq_status liq_book_set(liq_book *b, const liq_delta *d)
{
    liq_status st = liq_delta_check(b, d);
    if (st != LIQ_OK) { b->stats.rejected++; return st; }
    int sd = d->side;
    liq_side *s = &b->side[sd];
    int crosses = 0;
    if (d->qty) {
        const liq_side *o = &b->side[!sd];
        /* the opposite touch expressed as a key of this side: crossing <=> our key is above it */
        if (o->n) crosses = key_of(sd, d->px) > -o->key[o->n - 1];
        if (crosses && b->cross_policy == LIQ_CROSS_RAISE) {
            b->stats.crossed++;
            b->stats.rejected++;
            return LIQ_ERR_CROSSED;
        }
        if ((st = side_grow(s, s->n + 1)) != LIQ_OK) { b->stats.rejected++; return st; }
    }
    int64_t old_q;
    uint16_t old_dec;
    side_set(s, key_of(sd, d->px), d->qty, dec_of(d), &old_q, &old_dec);
    if (crosses) {
        b->stats.crossed++;
        if (b->cross_policy == LIQ_CROSS_REPAIR) drop_crossed(b, !sd);
    }
    if (b->max_depth && s->n > b->max_depth) truncate_depth(b);
    b->stats.messages++;
    b->stats.levels++;
    b->generation++;
    return LIQ_OK;
}

/* ---- messages ---------------------------------------------------------- */

static liq_status ensure_undo(liq_book *b, size_t n)
{
    if (n <= b->undo_cap) return LIQ_OK;
    size_t cap = b->undo_cap ? b->undo_cap * 2 : 64;
    if (cap < n) cap = n;
    liq_delta *u = realloc(b->undo, cap * sizeof *u);
    if (!u) return LIQ_ERR_NOMEM;
    b->undo = u;
    b->undo_cap = cap;
    return LIQ_OK;
}

static void rollback(liq_book *b, size_t applied)
{
    int64_t q;
    uint16_t dec;
    for (size_t i = applied; i-- > 0;) {
        const liq_delta *u = &b->undo[i];
        side_set(&b->side[u->side], u->px, u->qty, (uint16_t)(u->px_dec << 8 | u->qty_dec), &q, &dec);
    }
}

liq_status liq_book_apply(liq_book *b, const liq_delta *d, size_t n, size_t *bad)
{
    liq_status st;
    size_t ins[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        if ((st = liq_delta_check(b, &d[i])) != LIQ_OK) {
            if (bad) *bad = i;
            b->stats.rejected++;
            return st;
        }
        ins[d[i].side] += d[i].qty != 0;
    }
    if ((st = side_grow(&b->side[0], b->side[0].n + ins[0])) != LIQ_OK ||
        (st = side_grow(&b->side[1], b->side[1].n + ins[1])) != LIQ_OK ||
        (st = ensure_undo(b, n)) != LIQ_OK) {
        if (bad) *bad = n;
        b->stats.rejected++;
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        liq_delta *u = &b->undo[i];
        int64_t k = key_of(d[i].side, d[i].px);
        int64_t old_q;
        uint16_t old_dec;
        side_set(&b->side[d[i].side], k, d[i].qty, dec_of(&d[i]), &old_q, &old_dec);
        u->side = d[i].side;
        u->px = k;                 /* the undo log keeps keys, not prices */
        u->qty = old_q;
        u->px_dec = (uint8_t)(old_dec >> 8);
        u->qty_dec = (uint8_t)old_dec;
    }
    if (liq_book_is_crossed(b)) {
        b->stats.crossed++;
        if (b->cross_policy == LIQ_CROSS_RAISE) {
            rollback(b, n);
            if (bad) *bad = n;
            b->stats.rejected++;
            return LIQ_ERR_CROSSED;
        }
        if (b->cross_policy == LIQ_CROSS_REPAIR) {
            /* The side refreshed last is trusted: find the last delta that rests a
             * level through the other side's touch; the other side is stale. */
            int fresh = n ? d[n - 1].side : LIQ_BID;
            int64_t bb, bq, ab, aq;
            liq_book_best(b, LIQ_BID, &bb, &bq);
            liq_book_best(b, LIQ_ASK, &ab, &aq);
            for (size_t i = n; i-- > 0;) {
                if (!d[i].qty) continue;
                if ((d[i].side == LIQ_BID && d[i].px > ab) || (d[i].side == LIQ_ASK && d[i].px < bb)) {
                    fresh = d[i].side;
                    break;
                }
            }
            drop_crossed(b, !fresh);
        }
    }
    truncate_depth(b);
    b->stats.messages++;
    b->stats.levels += n;
    b->generation++;
    return LIQ_OK;
}

liq_delta *liq_book_scratch(liq_book *b, size_t n)
{
    if (b->scratch && n <= b->scratch_cap) return b->scratch;   /* never NULL for n == 0 */
    size_t cap = b->scratch_cap ? b->scratch_cap * 2 : 64;
    if (cap < n) cap = n;
    liq_delta *s = realloc(b->scratch, cap * sizeof *s);
    if (!s) return NULL;
    b->scratch = s;
    b->scratch_cap = cap;
    return s;
}

liq_status liq_book_apply_f64(liq_book *b, const uint8_t *sides, const double *px, const double *qty,
                              size_t n, size_t *bad)
{
    liq_status st;
    if (!liq_book_scratch(b, n)) { if (bad) *bad = n; b->stats.rejected++; return LIQ_ERR_NOMEM; }
    for (size_t i = 0; i < n; i++) {
        if ((st = liq_delta_from_f64(b, sides[i], px[i], qty[i], &b->scratch[i])) != LIQ_OK) {
            if (bad) *bad = i;
            b->stats.rejected++;
            return st;
        }
    }
    return liq_book_apply(b, b->scratch, n, bad);
}

/* ---- snapshots --------------------------------------------------------- */

typedef struct snap_row {
    int64_t key, qty;
    uint32_t idx;
    uint16_t dec;
} snap_row;

static int snap_cmp(const void *a, const void *b)
{
    const snap_row *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sort rows by key (ties by arrival), keep the last of equal keys, drop zero sizes. */
static size_t snap_normalise(snap_row *r, size_t n)
{
    int asc = 1, desc = 1;
    for (size_t i = 1; i < n && (asc || desc); i++) {
        if (r[i].key <= r[i - 1].key) asc = 0;
        if (r[i].key >= r[i - 1].key) desc = 0;
    }
    if (desc && !asc) {
        for (size_t i = 0, j = n - 1; i < j; i++, j--) { snap_row t = r[i]; r[i] = r[j]; r[j] = t; }
    } else if (!asc) {
        qsort(r, n, sizeof *r, snap_cmp);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && r[i + 1].key == r[i].key) continue;   /* a later row wins */
        if (r[i].qty) r[m++] = r[i];
    }
    return m;
}

liq_status liq_book_snapshot(liq_book *b, const liq_delta *d, size_t n, int64_t id, size_t *bad)
{
    liq_status st;
    size_t cnt[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        if ((st = liq_delta_check(b, &d[i])) != LIQ_OK) {
            if (bad) *bad = i;
            b->stats.rejected++;
            return st;
        }
        cnt[d[i].side]++;
    }
    if (n > UINT32_MAX) { if (bad) *bad = n; b->stats.rejected++; return LIQ_ERR_ARG; }
    snap_row *rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows) { if (bad) *bad = n; b->stats.rejected++; return LIQ_ERR_NOMEM; }
    snap_row *part[2] = {rows, rows + cnt[0]};
    size_t fill[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int sd = d[i].side;
        snap_row *r = &part[sd][fill[sd]++];
        r->key = key_of(sd, d[i].px);
        r->qty = d[i].qty;
        r->idx = (uint32_t)i;
        r->dec = dec_of(&d[i]);
    }
    liq_side fresh[2];
    memset(fresh, 0, sizeof fresh);
    st = LIQ_OK;
    for (int sd = 0; sd < 2 && st == LIQ_OK; sd++) {
        size_t m = snap_normalise(part[sd], cnt[sd]);
        size_t skip = b->max_depth && m > b->max_depth ? m - b->max_depth : 0;
        if (m - skip == 0) continue;
        if ((st = side_grow(&fresh[sd], m - skip)) != LIQ_OK) break;
        for (size_t i = skip; i < m; i++) {
            fresh[sd].key[i - skip] = part[sd][i].key;
            fresh[sd].qty[i - skip] = part[sd][i].qty;
            fresh[sd].dec[i - skip] = part[sd][i].dec;
        }
        fresh[sd].n = m - skip;
    }
    free(rows);
    if (st == LIQ_OK && fresh[0].n && fresh[1].n &&
        fresh[0].key[fresh[0].n - 1] > -fresh[1].key[fresh[1].n - 1]) {
        b->stats.crossed++;
        if (b->cross_policy != LIQ_CROSS_ALLOW) st = LIQ_ERR_CROSSED;
    }
    if (st != LIQ_OK) {
        side_free(&fresh[0]);
        side_free(&fresh[1]);
        if (bad) *bad = n;
        b->stats.rejected++;
        return st;
    }
    side_free(&b->side[0]);
    side_free(&b->side[1]);
    b->side[0] = fresh[0];
    b->side[1] = fresh[1];
    b->last_id = id;
    b->after_snapshot = 1;
    b->stats.snapshots++;
    b->stats.messages++;
    b->generation++;
    return LIQ_OK;
}

/* ---- sequence ---------------------------------------------------------- */

liq_status liq_book_check_seq(const liq_book *b, liq_seq_ids ids)
{
    int64_t L = b->last_id;
    if (b->seq_rule == LIQ_SEQ_NONE) return LIQ_OK;
    if (ids.last == LIQ_ID_NONE) return LIQ_ERR_ARG;
    if (L == LIQ_ID_NONE) return LIQ_ERR_SEQ_GAP;   /* no snapshot id to continue from */
    switch (b->seq_rule) {
    case LIQ_SEQ_BINANCE_SPOT:
        if (ids.first == LIQ_ID_NONE) return LIQ_ERR_ARG;
        if (ids.last <= L) return LIQ_STALE;
        /* U <= L + 1 (the newer wording's step 5 would also reject U == L + 1; the
         * update procedure and the older wording accept it, and real data needs it) */
        if (ids.first > L && ids.first - L > 1) return LIQ_ERR_SEQ_GAP;
        return LIQ_OK;
    case LIQ_SEQ_BINANCE_FUTURES:
        if (ids.first == LIQ_ID_NONE || ids.prev == LIQ_ID_NONE) return LIQ_ERR_ARG;
        if (ids.last < L) return LIQ_STALE;
        if (b->after_snapshot) return ids.first <= L ? LIQ_OK : LIQ_ERR_SEQ_GAP;
        if (ids.last == L) return LIQ_STALE;
        return ids.prev == L ? LIQ_OK : LIQ_ERR_SEQ_GAP;
    case LIQ_SEQ_OKX:
        if (ids.prev == LIQ_ID_NONE) return LIQ_ERR_ARG;
        if (ids.prev == L) return LIQ_OK;   /* normal, heartbeat (seq == prev) and reset (seq < prev) */
        if (ids.prev <= ids.last && ids.last <= L) return LIQ_STALE;
        return LIQ_ERR_SEQ_GAP;
    case LIQ_SEQ_CONTIGUOUS: {
        int64_t first = ids.first == LIQ_ID_NONE ? ids.last : ids.first;
        if (ids.last <= L) return LIQ_STALE;
        return first - 1 == L ? LIQ_OK : LIQ_ERR_SEQ_GAP;
    }
    case LIQ_SEQ_PREV:
        if (ids.prev == LIQ_ID_NONE) return LIQ_ERR_ARG;
        if (ids.prev == L) return LIQ_OK;
        if (ids.last <= L) return LIQ_STALE;
        return LIQ_ERR_SEQ_GAP;
    case LIQ_SEQ_NONE:
        break;
    }
    return LIQ_ERR_ARG;
}

liq_status liq_book_apply_seq(liq_book *b, const liq_delta *d, size_t n, liq_seq_ids ids, size_t *bad)
{
    liq_status st = liq_book_check_seq(b, ids);
    if (st == LIQ_STALE) { b->stats.stale++; return st; }
    if (st == LIQ_ERR_SEQ_GAP) b->stats.gaps++;
    if (st != LIQ_OK) { if (bad) *bad = n; b->stats.rejected++; return st; }
    if ((st = liq_book_apply(b, d, n, bad)) != LIQ_OK) return st;
    if (ids.last != LIQ_ID_NONE) b->last_id = ids.last;
    b->after_snapshot = 0;
    return LIQ_OK;
}

/* ---- export ------------------------------------------------------------ */

size_t liq_book_levels_f64(const liq_book *b, int side, size_t n, double *out)
{
    const liq_side *s = &b->side[side];
    if (n > s->n) n = s->n;
    /* division (not multiplication by 10^-s) gives the double nearest the decimal */
    double ps = (double)liq_pow10[b->px_scale], qs = (double)liq_pow10[b->qty_scale];
    for (size_t i = 0; i < n; i++) {
        size_t j = s->n - 1 - i;
        out[2 * i] = (double)(side == LIQ_BID ? s->key[j] : -s->key[j]) / ps;
        out[2 * i + 1] = (double)s->qty[j] / qs;
    }
    return n;
}

size_t liq_book_levels_i64(const liq_book *b, int side, size_t n, int64_t *out)
{
    const liq_side *s = &b->side[side];
    if (n > s->n) n = s->n;
    for (size_t i = 0; i < n; i++) {
        size_t j = s->n - 1 - i;
        out[2 * i] = side == LIQ_BID ? s->key[j] : -s->key[j];
        out[2 * i + 1] = s->qty[j];
    }
    return n;
}

/* ---- serialization ----------------------------------------------------- */

#define SER_MAGIC 0x3142514cu   /* "LQB1" little-endian */
#define SER_VERSION 1u
#define SER_HEADER (4 + 4 + 4 + 4 + 8 + 8 + 8 + 4 + 8 + 8 * 9 + 8 + 8)

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}
static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + 4;
}
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

size_t liq_book_serialized_size(const liq_book *b)
{
    return SER_HEADER + (b->side[0].n + b->side[1].n) * (8 + 8 + 2);
}

size_t liq_book_serialize(const liq_book *b, uint8_t *buf)
{
    uint8_t *p = buf;
    p = put_u32(p, SER_MAGIC);
    p = put_u32(p, SER_VERSION);
    p = put_u32(p, (uint32_t)b->px_scale);
    p = put_u32(p, (uint32_t)b->qty_scale);
    p = put_u64(p, (uint64_t)b->tick);
    p = put_u64(p, (uint64_t)b->lot);
    p = put_u64(p, (uint64_t)b->max_depth);
    p = put_u32(p, (uint32_t)b->cross_policy | (uint32_t)b->seq_rule << 8 | (uint32_t)(b->after_snapshot != 0) << 16);
    p = put_u64(p, (uint64_t)b->last_id);
    const uint64_t *st = &b->stats.messages;
    for (int i = 0; i < 9; i++) p = put_u64(p, st[i]);
    p = put_u64(p, b->side[0].n);
    p = put_u64(p, b->side[1].n);
    for (int sd = 0; sd < 2; sd++) {
        const liq_side *s = &b->side[sd];
        for (size_t i = 0; i < s->n; i++) p = put_u64(p, (uint64_t)s->key[i]);
        for (size_t i = 0; i < s->n; i++) p = put_u64(p, (uint64_t)s->qty[i]);
        for (size_t i = 0; i < s->n; i++) { p[0] = (uint8_t)s->dec[i]; p[1] = (uint8_t)(s->dec[i] >> 8); p += 2; }
    }
    return (size_t)(p - buf);
}

liq_status liq_book_deserialize(liq_book *b, const uint8_t *buf, size_t len)
{
    if (len < SER_HEADER) return LIQ_ERR_FORMAT;
    const uint8_t *p = buf;
    if (get_u32(p) != SER_MAGIC || get_u32(p + 4) != SER_VERSION) return LIQ_ERR_FORMAT;
    p += 8;
    uint32_t px_scale = get_u32(p), qty_scale = get_u32(p + 4);
    p += 8;
    int64_t tick = (int64_t)get_u64(p), lot = (int64_t)get_u64(p + 8);
    uint64_t max_depth = get_u64(p + 16);
    p += 24;
    uint32_t flags = get_u32(p);
    p += 4;
    int64_t last_id = (int64_t)get_u64(p);
    p += 8;
    liq_book t;
    if (px_scale > LIQ_MAX_SCALE || qty_scale > LIQ_MAX_SCALE ||
        liq_book_init(&t, (int)px_scale, (int)qty_scale, tick, lot, (size_t)max_depth) != LIQ_OK)
        return LIQ_ERR_FORMAT;
    uint32_t cross = flags & 0xff, rule = (flags >> 8) & 0xff;
    if (cross > LIQ_CROSS_ALLOW || rule > LIQ_SEQ_PREV || (flags >> 17)) return LIQ_ERR_FORMAT;
    t.cross_policy = (liq_cross_policy)cross;
    t.seq_rule = (liq_seq_rule)rule;
    t.after_snapshot = (int)((flags >> 16) & 1);
    t.last_id = last_id;
    uint64_t *st = &t.stats.messages;
    for (int i = 0; i < 9; i++, p += 8) st[i] = get_u64(p);
    uint64_t n[2] = {get_u64(p), get_u64(p + 8)};
    p += 16;
    if (n[0] > len / 18 || n[1] > len / 18 || (len - SER_HEADER) != (n[0] + n[1]) * 18) return LIQ_ERR_FORMAT;
    if (max_depth && (n[0] > max_depth || n[1] > max_depth)) return LIQ_ERR_FORMAT;   /* book invariant */
    for (int sd = 0; sd < 2; sd++) {
        liq_side *s = &t.side[sd];
        if (n[sd] && side_grow(s, n[sd]) != LIQ_OK) { liq_book_free(&t); return LIQ_ERR_NOMEM; }
        for (size_t i = 0; i < n[sd]; i++, p += 8) s->key[i] = (int64_t)get_u64(p);
        for (size_t i = 0; i < n[sd]; i++, p += 8) s->qty[i] = (int64_t)get_u64(p);
        for (size_t i = 0; i < n[sd]; i++, p += 2) s->dec[i] = (uint16_t)(p[0] | p[1] << 8);
        s->n = n[sd];
        for (size_t i = 0; i < s->n; i++) {
            if (s->key[i] == INT64_MIN) { liq_book_free(&t); return LIQ_ERR_FORMAT; }
            liq_delta d = {sd == LIQ_BID ? s->key[i] : -s->key[i], s->qty[i], (uint8_t)sd, 0, 0};
            if (liq_delta_check(&t, &d) != LIQ_OK || d.qty == 0 ||
                (i && s->key[i] <= s->key[i - 1])) {
                liq_book_free(&t);
                return LIQ_ERR_FORMAT;
            }
        }
    }
    if (t.cross_policy != LIQ_CROSS_ALLOW && liq_book_is_crossed(&t)) { liq_book_free(&t); return LIQ_ERR_FORMAT; }
    t.generation = b->generation + 1;
    liq_book_free(b);
    *b = t;
    return LIQ_OK;
}
