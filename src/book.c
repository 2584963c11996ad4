#include "book.h"
#include "flow.h"

#include <stdlib.h>
#include <string.h>

/* Scratch entries kept after a snapshot (typical delta messages are far smaller). */
#define SCRATCH_KEEP 256

/* ---- side storage ------------------------------------------------------ */

static liq_status side_grow(liq_side *s, size_t need)
{
    if (need <= s->cap) return LIQ_OK;
    /* Grow by 1/4, not 2x: a snapshot allocates exactly its levels and the first
     * insertion afterwards would otherwise double a 1000-level side to 2000 (36 KB of
     * slack per side); 1.25x keeps growth amortised O(1) with <= 25% slack. */
    size_t cap = s->cap ? s->cap + s->cap / 4 + 16 : 16;
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

/* A side's capacity is given back when it exceeds 4x its entries by more than this many
 * (one huge message or a mass deletion must not pin its peak memory until the next snapshot). */
#define SIDE_SLACK_KEEP 4096
/* Delta buffers (scratch, undo log) larger than this many entries are released after use. */
#define DELTAS_KEEP (SCRATCH_KEEP * 64)

/* Shrink a side's arrays to its entries plus the usual growth slack when they are far
 * larger. An array whose shrink fails keeps its larger block (still valid, and at least
 * the new capacity). O(len) when it shrinks. */
static void side_shrink(liq_side *s)
{
    if (s->cap <= 4 * s->len + SIDE_SLACK_KEEP) return;
    if (!s->len) {
        side_free(s);
        return;
    }
    const size_t cap = s->len + s->len / 4 + 16;
    int64_t *key = realloc(s->key, cap * sizeof *key);
    if (key) s->key = key;
    int64_t *qty = realloc(s->qty, cap * sizeof *qty);
    if (qty) s->qty = qty;
    uint16_t *dec = realloc(s->dec, cap * sizeof *dec);
    if (dec) s->dec = dec;
    /* a failed shrink leaves that array at its old, larger size: every array holds >= cap */
    s->cap = cap;
    if (s->dstart > s->len) s->dstart = s->len;
}

/*
 * Side layout, top to bottom (see book.h): the touch at index len-1; the *dense
 * region* [dstart, len) holds consecutive ticks (every tick present, as a level or
 * a hole), so a key in it is found by arithmetic; below it the *sparse part* holds
 * sorted keys (holes allowed) searched by galloping. The region is an acceleration
 * structure only: every operation stays correct with an empty region (dstart >= len).
 * It is rebuilt by densify() after a snapshot or a compaction and extended as the
 * touch moves up; levels near the touch, where most updates land, are then O(1).
 */

/* Most missing ticks filled with holes to keep the region dense (a level placed up
 * to this many ticks beyond the region's edge extends it). */
#define DENSE_GAP 32

/* First index in [0, m) whose key is >= k, galloping down from m-1 (1, 2, 4, ...
 * levels) then bisecting inside the last step: O(log d) for a level d places down. */
static inline size_t search(const int64_t *key, size_t m, int64_t k)
{
    if (m == 0 || key[m - 1] < k) return m;
    size_t hi = m - 1, step = 1;            /* key[hi] >= k */
    while (step <= hi && key[hi - step] >= k) {
        hi -= step;
        step <<= 1;
    }
    size_t lo = step <= hi ? hi - step + 1 : 0;   /* key[lo - 1] < k (or lo == 0) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key[mid] < k) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Steps of `step` from key a up to key b (b >= a, same side: no overflow); the
 * remainder is dropped (callers that need b on a's grid check on_grid first). */
static inline size_t ticks_between(int64_t a, int64_t b, int64_t step)
{
    uint64_t d = (uint64_t)b - (uint64_t)a;
    return (size_t)(step == 1 ? d : d / (uint64_t)step);
}

/* Whether key b is a whole number of steps from key a (same side). */
static inline int on_grid(int64_t a, int64_t b, int64_t step)
{
    uint64_t d = a < b ? (uint64_t)b - (uint64_t)a : (uint64_t)a - (uint64_t)b;
    return step == 1 || d % (uint64_t)step == 0;
}

/* First index whose key is >= k (holes included: they keep their key); *exact is
 * set when that key is k. In the dense region a key on the stride is found without
 * reading it; one between two steps sorts just above the step below it. */
static inline size_t find_pos(const liq_side *s, int64_t k, int64_t tick, int *exact)
{
    size_t n = s->len, d = s->dstart;
    if (n == 0 || s->key[n - 1] < k) {
        *exact = 0;
        return n;
    }
    if (d < n) {
        if (k >= s->key[d]) {
            const int64_t step = liq_side_stride(s, tick);
            const uint64_t off = (uint64_t)k - (uint64_t)s->key[d];
            const size_t q = (size_t)(step == 1 ? off : off / (uint64_t)step);
            *exact = step == 1 || off == (uint64_t)q * (uint64_t)step;
            return d + q + !*exact;         /* k < key[n-1] when off the stride: d + q + 1 < n */
        }
        n = d;                              /* key[d] > k: the answer is <= d */
    }
    size_t pos = search(s->key, n, k);
    *exact = pos < s->len && s->key[pos] == k;
    return pos;
}

/* Move count levels from index `from` to index `to` (overlapping ranges allowed). */
static inline void side_move(liq_side *s, size_t to, size_t from, size_t count)
{
    memmove(s->key + to, s->key + from, count * sizeof *s->key);
    memmove(s->qty + to, s->qty + from, count * sizeof *s->qty);
    memmove(s->dec + to, s->dec + from, count * sizeof *s->dec);
}

/* Write a hole with key k at index i. */
static inline void put_hole(liq_side *s, size_t i, int64_t k)
{
    s->key[i] = k;
    s->qty[i] = 0;
    s->dec[i] = 0;
}

/* Levels below the touch whose distances set a side's stride. */
#define STRIDE_LEVELS 64

/* The greatest common divisor of the distances from the touch of the top levels (at
 * least the tick: every key is on the tick's grid), the step of a region over them;
 * the tick for a side of one level. O(STRIDE_LEVELS). */
static int64_t learn_stride(const liq_side *s, int64_t tick)
{
    size_t n = s->len, lo = n > STRIDE_LEVELS ? n - STRIDE_LEVELS : 0;
    uint64_t g = 0;
    for (size_t j = n; j-- > lo && g != (uint64_t)tick;) {
        uint64_t a = (uint64_t)s->key[n - 1] - (uint64_t)s->key[j], b = g;
        while (b) {                             /* Euclid: a few steps once g is small */
            uint64_t r = a % b;
            a = b;
            b = r;
        }
        g = a;
    }
    return g && g <= (uint64_t)INT64_MAX ? (int64_t)g : tick;
}

/* The region densify() would build within capacity cap with step `step`: its start,
 * and the new len. It ends at the first level off the step's grid. */
static size_t dense_plan(const liq_side *s, int64_t step, size_t cap, size_t *start)
{
    size_t n = s->len, best = n ? n - 1 : 0;    /* a single level is a dense region */
    for (size_t j = n; j-- > 0;) {
        if (!on_grid(s->key[j], s->key[n - 1], step)) break;
        size_t span = ticks_between(s->key[j], s->key[n - 1], step) + 1;
        if (j >= cap || span > cap - j) break;   /* also stops spans that cannot fit at all */
        if (span - (n - j) <= (n - j) / 4 + DENSE_GAP) best = j;
    }
    *start = best;
    return n ? best + ticks_between(s->key[best], s->key[n - 1], step) + 1 : 0;
}

/*
 * Rebuild the dense region at the top of a side without holes, stepping by `step` (the
 * side's learn_stride, which becomes its stride): the lowest start j whose span [j, len)
 * needs at most (its levels)/4 + DENSE_GAP holes, using at most `limit` (<= cap) entries
 * (no allocation here). Levels move up in place, top first. O(len).
 */
static void densify(liq_side *s, int64_t step, size_t limit)
{
    size_t n = s->len, best;
    s->dstart = n;
    s->stride = step;
    if (n == 0) return;
    size_t top = dense_plan(s, step, limit, &best);
    int64_t base = s->key[best];
    size_t w = top;
    for (size_t i = n; i-- > best;) {
        size_t at = best + ticks_between(base, s->key[i], step);
        while (w > at + 1) {                /* holes above this level */
            w--;
            put_hole(s, w, base + (int64_t)(w - best) * step);
        }
        w = at;
        s->key[at] = s->key[i];
        s->qty[at] = s->qty[i];
        s->dec[at] = s->dec[i];
    }
    s->len = top;
    s->dstart = best;
}

/* densify() with the capacity it wants (a hole-free side, e.g. a fresh snapshot). O(len). */
static liq_status side_make_dense(liq_side *s, int64_t tick)
{
    const int64_t step = learn_stride(s, tick);    /* once: growing moves no key */
    size_t start, need = dense_plan(s, step, SIZE_MAX, &start);
    liq_status st = side_grow(s, need);
    if (st == LIQ_OK) densify(s, step, s->cap);
    return st;
}

/* Squeeze every hole out of a side, then rebuild the dense region within `limit`
 * entries. O(len). */
static void side_compact(liq_side *s, int64_t tick, size_t limit)
{
    size_t m = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (!s->qty[i]) continue;
        s->key[m] = s->key[i];
        s->qty[m] = s->qty[i];
        s->dec[m] = s->dec[i];
        m++;
    }
    s->len = s->live = m;
    densify(s, learn_stride(s, tick), limit);
}

/*
 * Holes allowed before a compaction: half the live levels plus slack. densify()
 * leaves at most a quarter, so a compaction (O(len)) is paid at most once per
 * ~live/4 deletions, and memory stays within 1.5x the live levels (+ slack).
 */
static inline int side_too_holey(const liq_side *s) { return s->len - s->live > s->live / 2 + 2 * DENSE_GAP; }

/* Whether `gap` more holes and one more level keep a side within that bound (an insertion's
 * filler holes are skipped when they would not: the level is placed without them). */
static inline int side_holes_fit(const liq_side *s, size_t gap)
{
    return s->len - s->live + gap <= (s->live + 1) / 2 + 2 * DENSE_GAP;
}

/* Remove the level at pos: a hole in the middle, a real pop at the touch. */
static inline void side_remove(liq_side *s, size_t pos, int64_t tick)
{
    s->live--;
    if (pos + 1 == s->len) {
        /* the touch must stay a live level: drop it and any holes it uncovers */
        s->len--;
        while (s->len && !s->qty[s->len - 1]) s->len--;
        if (s->dstart > s->len) s->dstart = s->len;
    } else {
        s->qty[pos] = 0;
        s->dec[pos] = 0;
    }
    /* either way one live level fewer: the holes left may now exceed the bound */
    if (side_too_holey(s)) side_compact(s, tick, s->cap);
}

/* Write a level at index at. */
static inline void put_level(liq_side *s, size_t at, int64_t k, int64_t q, uint16_t dec)
{
    s->key[at] = k;
    s->qty[at] = q;
    s->dec[at] = dec;
    s->live++;
}

/*
 * Insert a new key k that sorts just before index pos (k is absent, so pos is not
 * inside the dense region). Above the touch: append, filling up to DENSE_GAP missing
 * ticks with holes so the region grows with the touch. Below: fill the nearest hole
 * of the sparse part when it is closer than the region (only the levels between
 * move), else shift the tail up one (the region moves with it). Never allocates:
 * the caller guarantees cap > len; holes are added only where capacity allows.
 */
static inline void side_insert(liq_side *s, size_t pos, int64_t k, int64_t q, uint16_t dec, int64_t tick)
{
    size_t n = s->len;
    const int64_t step = liq_side_stride(s, tick);
    if (s->dstart < pos && pos < n)
        s->dstart = pos;         /* k lies between two steps of the region: it now starts above k */
    if (pos == n) {
        size_t gap = n ? ticks_between(s->key[n - 1], k, step) - 1 : 0;
        if (n && on_grid(s->key[n - 1], k, step) && gap <= DENSE_GAP && n + gap + 1 <= s->cap &&
            side_holes_fit(s, gap)) {
            if (s->dstart >= n) s->dstart = n - 1;   /* the old touch starts the region */
            for (size_t i = 0; i < gap; i++) put_hole(s, n + i, s->key[n - 1] + (int64_t)(i + 1) * step);
            n += gap;
        } else {
            s->dstart = n;                           /* far above: a region of one level */
        }
        put_level(s, n, k, q, dec);
        s->len = n + 1;
        return;
    }
    size_t lim = s->dstart < n ? s->dstart : n;      /* sparse part: [0, lim) */
    if (s->len > s->live && pos < lim) {
        /* nearest hole of the sparse part, looking both ways, closer than the tail */
        size_t up = pos, dn = pos;
        for (size_t d = 0; d < n - pos; d++, up++) {
            if (up < lim && !s->qty[up]) {          /* levels [pos, up) move up one */
                side_move(s, pos + 1, pos, up - pos);
                put_level(s, pos, k, q, dec);
                return;
            }
            if (dn > 0 && !s->qty[--dn]) {          /* levels (dn, pos) move down one */
                side_move(s, dn, dn + 1, pos - 1 - dn);
                put_level(s, pos - 1, k, q, dec);
                return;
            }
            if (up >= lim && dn == 0) break;
        }
    }
    if (pos == s->dstart) {
        /* just below the region: extend it down over the missing ticks if they fit */
        size_t gap = ticks_between(k, s->key[pos], step) - 1;
        if (on_grid(k, s->key[pos], step) && gap <= DENSE_GAP && n + gap + 1 <= s->cap && side_holes_fit(s, gap)) {
            side_move(s, pos + gap + 1, pos, n - pos);
            for (size_t i = 1; i <= gap; i++) put_hole(s, pos + i, k + (int64_t)i * step);
            put_level(s, pos, k, q, dec);
            s->len = n + gap + 1;
            return;                                  /* dstart = pos: the region now starts at k */
        }
    }
    side_move(s, pos + 1, pos, n - pos);
    put_level(s, pos, k, q, dec);
    s->len = n + 1;
    if (s->dstart < n && pos <= s->dstart) s->dstart++;   /* the region moved up with the tail */
}

/*
 * Set key k to size q (0 deletes). Writes the previous size (0 if absent) and, when
 * old_dec is not NULL, the previous decimals (only an undo log needs them: skipping the
 * load saves a cache miss per update). Needs cap > live when inserting.
 */
static inline void side_set(liq_side *s, int64_t k, int64_t q, uint16_t dec, int64_t tick, int64_t *old_q,
                            uint16_t *old_dec)
{
    int exact;
    size_t pos = find_pos(s, k, tick, &exact);
    if (exact) {
        *old_q = s->qty[pos];                   /* 0 for a hole: absent */
        if (old_dec) *old_dec = s->dec[pos];
        if (q == 0) {
            if (*old_q) side_remove(s, pos, tick);
        } else {
            s->live += *old_q == 0;             /* a hole comes back to life */
            s->qty[pos] = q;
            s->dec[pos] = dec;
        }
    } else {
        *old_q = 0;
        if (old_dec) *old_dec = 0;
        if (q == 0) return;
        if (s->len == s->cap) {
            /* Holes used the spare room. Callers reserve one entry per insertion on top
             * of the live levels (and an undo re-creates a state that fitted), so
             * squeezing the holes out always frees one. The rebuilt region may now
             * hold k as a hole: start over (once: len < cap now). */
            side_compact(s, tick, s->cap - 1);
            side_set(s, k, q, dec, tick, old_q, old_dec);
            return;
        }
        side_insert(s, pos, k, q, dec, tick);
    }
}

static inline int64_t key_of(int side, int64_t px) { return side == LIQ_BID ? px : -px; }
static inline uint16_t dec_of(const liq_delta *d) { return (uint16_t)(d->px_dec << 8 | d->qty_dec); }

/* Drop the worst live levels beyond max_depth on both sides (holes below go too). */
static void truncate_depth(liq_book *b)
{
    if (!b->max_depth) return;
    for (int sd = 0; sd < 2; sd++) {
        liq_side *s = &b->side[sd];
        if (s->live <= b->max_depth) continue;
        size_t drop = s->live - b->max_depth, cut = 0;
        for (size_t seen = 0; seen < drop; cut++) seen += s->qty[cut] != 0;
        side_move(s, 0, cut, s->len - cut);
        s->len -= cut;
        s->dstart = s->dstart > cut ? s->dstart - cut : 0;
        s->live = b->max_depth;
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
    if (!fr->len) return;
    /* crossed <=> bid key > -ask key; in terms of the stale side's own key: */
    int64_t fresh_best_px = stale == LIQ_BID ? -fr->key[fr->len - 1] : fr->key[fr->len - 1];
    while (st->len) {
        int64_t px = stale == LIQ_BID ? st->key[st->len - 1] : -st->key[st->len - 1];
        int crosses = stale == LIQ_BID ? px > fresh_best_px : px < fresh_best_px;
        if (!crosses) break;
        side_remove(st, st->len - 1, b->tick);
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
    free(b->ofi);
    b->scratch = b->undo = NULL;
    b->ofi = NULL;
    b->scratch_cap = b->undo_cap = 0;
}

void liq_book_clear(liq_book *b)
{
    b->side[0].len = b->side[1].len = 0;
    b->side[0].dstart = b->side[1].dstart = 0;
    b->side[0].live = b->side[1].live = 0;
    b->last_id = LIQ_ID_NONE;
    b->after_snapshot = 0;
    b->generation++;
    if (b->ofi) liq_ofi_observe(b->ofi, b, 1);
}

liq_status liq_book_copy(liq_book *dst, const liq_book *src)
{
    liq_book tmp = *src;
    tmp.scratch = tmp.undo = NULL;
    tmp.scratch_cap = tmp.undo_cap = 0;
    tmp.ofi = NULL;
    memset(tmp.side, 0, sizeof tmp.side);
    if (src->ofi) {
        if (!(tmp.ofi = malloc(sizeof *tmp.ofi))) return LIQ_ERR_NOMEM;
        memcpy(tmp.ofi, src->ofi, sizeof *tmp.ofi);
    }
    for (int sd = 0; sd < 2; sd++) {
        const liq_side *s = &src->side[sd];
        if (!s->len) continue;
        if (side_grow(&tmp.side[sd], s->len) != LIQ_OK) {
            liq_book_free(&tmp);
            return LIQ_ERR_NOMEM;
        }
        memcpy(tmp.side[sd].key, s->key, s->len * sizeof *s->key);
        memcpy(tmp.side[sd].qty, s->qty, s->len * sizeof *s->qty);
        memcpy(tmp.side[sd].dec, s->dec, s->len * sizeof *s->dec);
        tmp.side[sd].len = s->len;
        tmp.side[sd].dstart = s->dstart;
        tmp.side[sd].stride = s->stride;
        tmp.side[sd].live = s->live;
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
    /* A 64-bit division costs ~40 cycles, more than the rest of an update: skip it
     * for the usual unit grid (scale taken from the tick/lot size itself). */
    if (b->tick != 1 && d->px % b->tick) return LIQ_ERR_OFF_GRID;
    if (b->lot != 1 && d->qty % b->lot) return LIQ_ERR_OFF_GRID;
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

/* liq_book_set after validation. */
static liq_status set_valid(liq_book *b, const liq_delta *d)
{
    liq_status st;
    int sd = d->side;
    liq_side *s = &b->side[sd];
    int crosses = 0;
    if (d->qty) {
        const liq_side *o = &b->side[!sd];
        /* the opposite touch expressed as a key of this side: crossing <=> our key is above it */
        if (o->len) crosses = key_of(sd, d->px) > -o->key[o->len - 1];
        if (crosses && b->cross_policy == LIQ_CROSS_RAISE) {
            b->stats.crossed++;
            b->stats.rejected++;
            return LIQ_ERR_CROSSED;
        }
        /* + DENSE_GAP: room for the region's holes, so they rarely force a compaction */
        if ((st = side_grow(s, s->len + 1 + DENSE_GAP)) != LIQ_OK) { b->stats.rejected++; return st; }
    }
    int64_t old_q;
    side_set(s, key_of(sd, d->px), d->qty, dec_of(d), b->tick, &old_q, NULL);
    if (crosses) {
        b->stats.crossed++;
        if (b->cross_policy == LIQ_CROSS_REPAIR) drop_crossed(b, !sd);
    }
    if (b->max_depth && s->live > b->max_depth) truncate_depth(b);
    if (!d->qty) side_shrink(s);            /* O(1) unless far too large */
    b->stats.messages++;
    b->stats.levels++;
    b->generation++;
    if (b->ofi) liq_ofi_observe(b->ofi, b, 0);
    return LIQ_OK;
}

liq_status liq_book_set(liq_book *b, const liq_delta *d)
{
    liq_status st = liq_delta_check(b, d);
    if (st != LIQ_OK) { b->stats.rejected++; return st; }
    return set_valid(b, d);
}

liq_status liq_book_set_f64(liq_book *b, int side, double px, double qty)
{
    liq_delta d;
    liq_status st = liq_delta_from_f64(b, side, px, qty, &d);
    if (st != LIQ_OK) { b->stats.rejected++; return st; }
    return set_valid(b, &d);
}

/* ---- messages ---------------------------------------------------------- */

/* Grow a book-owned delta buffer to hold n (doubling, at least 64); 0 on allocation
 * failure, the buffer then unchanged. The scratch and the undo log both use it. */
static int grow_deltas(liq_delta **buf, size_t *cap, size_t n)
{
    size_t c = *cap ? *cap * 2 : 64;
    if (c < n) c = n;
    liq_delta *p = realloc(*buf, c * sizeof *p);
    if (!p) return 0;
    *buf = p;
    *cap = c;
    return 1;
}

static liq_status ensure_undo(liq_book *b, size_t n)
{
    if (n <= b->undo_cap) return LIQ_OK;
    return grow_deltas(&b->undo, &b->undo_cap, n) ? LIQ_OK : LIQ_ERR_NOMEM;
}

static void rollback(liq_book *b, size_t applied)
{
    int64_t q;
    uint16_t dec;
    for (size_t i = applied; i-- > 0;) {
        const liq_delta *u = &b->undo[i];
        side_set(&b->side[u->side], u->px, u->qty, (uint16_t)(u->px_dec << 8 | u->qty_dec), b->tick, &q, &dec);
    }
}

/* A copy of a side's arrays (exactly len entries), for rolling back a large message. */
static liq_status side_backup(const liq_side *s, liq_side *out)
{
    memset(out, 0, sizeof *out);
    if (!s->len) return LIQ_OK;
    liq_status st = side_grow(out, s->len);
    if (st != LIQ_OK) { side_free(out); return st; }
    memcpy(out->key, s->key, s->len * sizeof *s->key);
    memcpy(out->qty, s->qty, s->len * sizeof *s->qty);
    memcpy(out->dec, s->dec, s->len * sizeof *s->dec);
    out->len = s->len;
    out->live = s->live;
    out->dstart = s->dstart;
    out->stride = s->stride;
    return LIQ_OK;
}

/*
 * How a message in progress is undone: a log of the old sizes (O(n) entries), or,
 * when the message is larger than the book, a copy of the sides taken up front
 * (O(levels): a 1M-level replay batch must not log 24 MB), or nothing when the
 * message is known valid and cannot be rejected afterwards (policy not RAISE).
 */
typedef struct undo_plan {
    int logged, by_copy;
    liq_side saved[2];
} undo_plan;

static liq_status undo_prepare(liq_book *b, size_t n, int needed, undo_plan *u)
{
    liq_status st = LIQ_OK;
    u->by_copy = needed && n > 256 && n * sizeof(liq_delta) > (b->side[0].len + b->side[1].len) * 18;
    u->logged = needed && !u->by_copy;
    if (u->logged) return ensure_undo(b, n);
    if (u->by_copy) {
        memset(u->saved, 0, sizeof u->saved);
        if ((st = side_backup(&b->side[0], &u->saved[0])) != LIQ_OK ||
            (st = side_backup(&b->side[1], &u->saved[1])) != LIQ_OK) {
            side_free(&u->saved[0]);
            side_free(&u->saved[1]);
        }
    }
    return st;
}

static inline void undo_log(liq_book *b, const undo_plan *u, size_t i, int side, int64_t key, int64_t old_q,
                            uint16_t old_dec)
{
    if (!u->logged) return;
    liq_delta *e = &b->undo[i];
    e->side = (uint8_t)side;
    e->px = key;                 /* the undo log keeps keys, not prices */
    e->qty = old_q;
    e->px_dec = (uint8_t)(old_dec >> 8);
    e->qty_dec = (uint8_t)old_dec;
}

/* Undo the first `applied` deltas of the message (the book is as it was). */
static void undo_restore(liq_book *b, undo_plan *u, size_t applied)
{
    if (u->by_copy) {
        for (int sd = 0; sd < 2; sd++) {   /* the saved sides are the book as it was */
            side_free(&b->side[sd]);
            b->side[sd] = u->saved[sd];
        }
        u->by_copy = 0;
    } else if (u->logged) {
        rollback(b, applied);
    }
}

static void undo_release(undo_plan *u)
{
    if (u->by_copy) {
        side_free(&u->saved[0]);
        side_free(&u->saved[1]);
    }
}

/*
 * Where a message's deltas come from: converted deltas, or parallel arrays of sides
 * and doubles converted on the fly (no scratch buffer; a 1M-level replay batch would
 * otherwise write and page in 24 MB of it).
 */
typedef struct msg_src {
    const liq_delta *d;
    const uint8_t *sides;
    const double *px, *qty;
} msg_src;

static inline liq_status msg_get(const liq_book *b, const msg_src *m, size_t i, liq_delta *out)
{
    if (m->d) {
        *out = m->d[i];
        return liq_delta_check(b, out);
    }
    return liq_delta_from_f64(b, m->sides[i], m->px[i], m->qty[i], out);
}

/* Set one validated delta, logging its undo entry i. */
static inline void apply_one(liq_book *b, const undo_plan *u, size_t i, const liq_delta *d)
{
    int64_t k = key_of(d->side, d->px), old_q;
    uint16_t old_dec;
    if (!u->logged) {
        side_set(&b->side[d->side], k, d->qty, dec_of(d), b->tick, &old_q, NULL);
        return;
    }
    side_set(&b->side[d->side], k, d->qty, dec_of(d), b->tick, &old_q, &old_dec);
    undo_log(b, u, i, d->side, k, old_q, old_dec);
}

/*
 * After all n deltas are applied: the crossing check (reject and undo, repair, or
 * allow), max_depth, counters. m is read again only to find the fresh side.
 */
static liq_status apply_finish(liq_book *b, const msg_src *m, size_t n, undo_plan *u, size_t *bad)
{
    liq_delta d;
    if (liq_book_is_crossed(b)) {
        b->stats.crossed++;
        if (b->cross_policy == LIQ_CROSS_RAISE) {
            undo_restore(b, u, n);
            undo_release(u);
            if (bad) *bad = n;
            b->stats.rejected++;
            return LIQ_ERR_CROSSED;
        }
        if (b->cross_policy == LIQ_CROSS_REPAIR) {
            /* The side refreshed last is trusted: find the last delta that rests a
             * level through the other side's touch; the other side is stale. */
            int fresh = LIQ_BID;
            /* crossed: both sides have a best level (the zeros keep every build's flow
             * analysis quiet: -Os saw them possibly unset) */
            int64_t bb = 0, bq = 0, ab = 0, aq = 0;
            (void)liq_book_best(b, LIQ_BID, &bb, &bq);
            (void)liq_book_best(b, LIQ_ASK, &ab, &aq);
            if (n) {
                (void)msg_get(b, m, n - 1, &d);
                fresh = d.side;
            }
            for (size_t i = n; i-- > 0;) {
                (void)msg_get(b, m, i, &d);
                if (!d.qty) continue;
                if ((d.side == LIQ_BID && d.px > ab) || (d.side == LIQ_ASK && d.px < bb)) {
                    fresh = d.side;
                    break;
                }
            }
            drop_crossed(b, !fresh);
        }
    }
    undo_release(u);
    truncate_depth(b);
    b->stats.messages++;
    b->stats.levels += n;
    b->generation++;
    if (b->ofi) liq_ofi_observe(b->ofi, b, 0);
    return LIQ_OK;
}

/* Messages up to this size are converted once into a stack buffer (1.5 KB). */
#define SMALL_MSG 64

/*
 * Apply a message, all or nothing. Small messages and converted deltas: validate
 * all first (nothing changes on a bad delta), reserve the worst case, apply.
 * Large f64 messages: one pass that converts and applies, growing on demand; a bad
 * delta undoes what was applied (from the copy of the book) -- one conversion per
 * delta instead of two.
 */
static liq_status apply_msg(liq_book *b, const msg_src *m, size_t n, size_t *bad)
{
    liq_status st;
    liq_delta d, small[SMALL_MSG];
    undo_plan u;
    if (!m->d && n > SMALL_MSG) {
        if ((st = undo_prepare(b, n, 1, &u)) != LIQ_OK) goto fail_n;
        /* In chunks: convert SMALL_MSG deltas (independent arithmetic that pipelines
         * well), then apply them (bound by the book's memory), growing on demand. */
        for (size_t c0 = 0; c0 < n; c0 += SMALL_MSG) {
            size_t cn = n - c0 < SMALL_MSG ? n - c0 : SMALL_MSG, got = 0;
            size_t need[2] = {0, 0};
            for (; got < cn; got++) {
                if ((st = msg_get(b, m, c0 + got, &small[got])) != LIQ_OK) break;
                need[small[got].side] += small[got].qty != 0;
            }
            for (int sd = 0; sd < 2 && got; sd++) {
                liq_side *s = &b->side[sd];
                liq_status gs;
                if (s->len + need[sd] > s->cap &&
                    (gs = side_grow(s, s->len + need[sd] + DENSE_GAP)) != LIQ_OK) {
                    undo_restore(b, &u, c0);
                    undo_release(&u);
                    st = gs;
                    goto fail_n;
                }
            }
            for (size_t i = 0; i < got; i++) apply_one(b, &u, c0 + i, &small[i]);
            if (st != LIQ_OK) {            /* delta c0 + got is bad: undo the message */
                undo_restore(b, &u, c0 + got);
                undo_release(&u);
                if (bad) *bad = c0 + got;
                b->stats.rejected++;
                return st;
            }
        }
        return apply_finish(b, m, n, &u, bad);
    }
    const int keep = !m->d;   /* an f64 source is small here: convert it once */
    size_t ins[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        /* convert straight into place: copying the just-written struct as a whole
         * stalls on store forwarding (a third of a small message's time) */
        liq_delta *out = keep ? &small[i] : &d;
        if ((st = msg_get(b, m, i, out)) != LIQ_OK) {
            if (bad) *bad = i;
            b->stats.rejected++;
            return st;
        }
        ins[out->side] += out->qty != 0;
    }
    msg_src conv = {small, NULL, NULL, NULL};
    const msg_src *src = keep ? &conv : m;   /* apply what was just converted */
    if ((st = side_grow(&b->side[0], b->side[0].len + ins[0] + DENSE_GAP)) != LIQ_OK ||
        (st = side_grow(&b->side[1], b->side[1].len + ins[1] + DENSE_GAP)) != LIQ_OK ||
        (st = undo_prepare(b, n, b->cross_policy == LIQ_CROSS_RAISE, &u)) != LIQ_OK)
        goto fail_n;
    for (size_t i = 0; i < n; i++) {
        (void)msg_get(b, src, i, &d);       /* validated above */
        apply_one(b, &u, i, &d);
    }
    return apply_finish(b, src, n, &u, bad);
fail_n:
    if (bad) *bad = n;
    b->stats.rejected++;
    return st;
}

liq_status liq_book_apply(liq_book *b, const liq_delta *d, size_t n, size_t *bad)
{
    msg_src m = {d, NULL, NULL, NULL};
    liq_status st = apply_msg(b, &m, n, bad);
    liq_book_trim(b);      /* d (possibly the scratch) is not read after this */
    return st;
}

liq_status liq_book_apply_f64(liq_book *b, const uint8_t *sides, const double *px, const double *qty,
                              size_t n, size_t *bad)
{
    msg_src m = {NULL, sides, px, qty};
    liq_status st = apply_msg(b, &m, n, bad);
    liq_book_trim(b);
    return st;
}

void liq_book_reject(liq_book *b)
{
    b->stats.rejected++;
    liq_book_trim(b);
}

void liq_book_trim(liq_book *b)
{
    if (b->scratch_cap > DELTAS_KEEP) {
        free(b->scratch);
        b->scratch = NULL;
        b->scratch_cap = 0;
    }
    if (b->undo_cap > DELTAS_KEEP) {
        free(b->undo);
        b->undo = NULL;
        b->undo_cap = 0;
    }
    side_shrink(&b->side[0]);
    side_shrink(&b->side[1]);
}

liq_delta *liq_book_scratch(liq_book *b, size_t n)
{
    if (b->scratch && n <= b->scratch_cap) return b->scratch;   /* never NULL for n == 0 */
    return grow_deltas(&b->scratch, &b->scratch_cap, n) ? b->scratch : NULL;
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
        fresh[sd].len = fresh[sd].live = m - skip;
        if ((st = side_make_dense(&fresh[sd], b->tick)) != LIQ_OK) break;
    }
    free(rows);
    if (st == LIQ_OK && fresh[0].len && fresh[1].len &&
        fresh[0].key[fresh[0].len - 1] > -fresh[1].key[fresh[1].len - 1]) {
        b->stats.crossed++;
        if (b->cross_policy != LIQ_CROSS_ALLOW) st = LIQ_ERR_CROSSED;
    }
    if (st != LIQ_OK) {
        side_free(&fresh[0]);
        side_free(&fresh[1]);
        if (bad) *bad = n;
        b->stats.rejected++;
        liq_book_trim(b);
        return st;
    }
    side_free(&b->side[0]);
    side_free(&b->side[1]);
    b->side[0] = fresh[0];
    b->side[1] = fresh[1];
    /* The snapshot was converted into the book's scratch (2000 levels: 48 KB), more
     * than the levels themselves; deltas need only a small one, so give it back.
     * d is not read after this point (callers convert, call, and discard it). */
    if (d == b->scratch && b->scratch_cap > SCRATCH_KEEP) {
        free(b->scratch);
        b->scratch = NULL;
        b->scratch_cap = 0;
    }
    liq_book_trim(b);
    b->last_id = id;
    b->after_snapshot = 1;
    b->stats.snapshots++;
    if (b->ofi) liq_ofi_observe(b->ofi, b, 1);   /* a resync is not order flow */
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
        /* written as first - 1 > L: first - L overflows for far-apart ids (first != INT64_MIN here) */
        if (ids.first - 1 > L) return LIQ_ERR_SEQ_GAP;
        return LIQ_OK;
    case LIQ_SEQ_BINANCE_FUTURES:
        if (ids.first == LIQ_ID_NONE || ids.prev == LIQ_ID_NONE) return LIQ_ERR_ARG;
        if (ids.last < L) return LIQ_STALE;
        /* First event after a snapshot: U <= L <= u as documented, or pu == L: the
         * snapshot ended exactly on an event boundary and this event continues it (the
         * event with u == L was never received; refetching would land on a boundary
         * again on a quiet market and never converge). */
        if (b->after_snapshot) return ids.first <= L || ids.prev == L ? LIQ_OK : LIQ_ERR_SEQ_GAP;
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
        /* stale first: a message ending at or before L is old whatever its prev says
         * (prev == L with last < L would otherwise move the book's id backwards) */
        if (ids.last <= L) return LIQ_STALE;
        return ids.prev == L ? LIQ_OK : LIQ_ERR_SEQ_GAP;
    case LIQ_SEQ_INCREASING:
        /* ids rise but skip (Bitget counts internal updates): only a repeat is harmless; a
         * lower id is a packet out of order (a newer one is already applied) or a reset whose
         * continuity is unknown, so the book resyncs rather than freezing on skipped messages */
        if (ids.last > L) return LIQ_OK;
        return ids.last == L ? LIQ_STALE : LIQ_ERR_SEQ_GAP;
    case LIQ_SEQ_NONE:
        break;
    }
    return LIQ_ERR_ARG;
}

liq_status liq_book_apply_seq(liq_book *b, const liq_delta *d, size_t n, liq_seq_ids ids, size_t *bad)
{
    liq_status st = liq_book_check_seq(b, ids);
    if (st == LIQ_STALE) { b->stats.stale++; liq_book_trim(b); return st; }
    if (st == LIQ_ERR_SEQ_GAP) b->stats.gaps++;
    if (st != LIQ_OK) { if (bad) *bad = n; b->stats.rejected++; liq_book_trim(b); return st; }
    if ((st = liq_book_apply(b, d, n, bad)) != LIQ_OK) return st;
    if (ids.last != LIQ_ID_NONE) b->last_id = ids.last;
    b->after_snapshot = 0;
    return LIQ_OK;
}


/* ---- export ------------------------------------------------------------ */

/* Up to n levels of a side from the cursor *c on (1-based; 0: the end), as (price, size) unit
 * pairs in out; *c is left at the next level. Returns the levels written. */
static size_t levels_units(const liq_book *b, int side, size_t *c, size_t n, int64_t *out)
{
    const liq_side *s = &b->side[side];
    const int64_t sign = side == LIQ_BID ? 1 : -1;
    size_t i = 0, k = *c;
    for (; k && i < n; k = liq_side_next(s, k), i++) {
        out[2 * i] = sign * s->key[k - 1];
        out[2 * i + 1] = s->qty[k - 1];
    }
    *c = k;
    return i;
}

size_t liq_book_levels_i64(const liq_book *b, int side, size_t n, int64_t *out)
{
    size_t c = liq_side_best(&b->side[side]);
    return levels_units(b, side, &c, n, out);
}

size_t liq_book_levels_f64(const liq_book *b, int side, size_t n, double *out)
{
    /* division (not multiplication by 10^-s) gives the double nearest the decimal. The levels
     * are gathered in chunks first and divided in a second loop of its own: the cursor walk
     * cannot be vectorised, the divisions can (a price and a size per instruction). Same
     * operations per value, so the same bits. */
    enum { CHUNK = 64 };
    const double div[2] = {(double)liq_pow10[b->px_scale], (double)liq_pow10[b->qty_scale]};
    int64_t units[2 * CHUNK];
    size_t done = 0;
    size_t c = liq_side_best(&b->side[side]);
    while (done < n && c) {
        size_t got = levels_units(b, side, &c, n - done < CHUNK ? n - done : CHUNK, units);
        double *o = out + 2 * done;
        for (size_t j = 0; j < got; j++) {
            o[2 * j] = (double)units[2 * j] / div[0];
            o[2 * j + 1] = (double)units[2 * j + 1] / div[1];
        }
        done += got;
    }
    return done;
}


/* ---- serialization ----------------------------------------------------- */

#define SER_MAGIC 0x3142514cu   /* "LQB1" little-endian */
#define SER_VERSION 1u
#define SER_VERSION_LABELS 2u   /* v1 followed by the symbol and exchange labels */
#define SER_HEADER (4 + 4 + 4 + 4 + 8 + 8 + 8 + 4 + 8 + 8 * 9 + 8 + 8)
_Static_assert(SER_HEADER == LIQ_SER_HEADER, "book.h documents the header size");
_Static_assert(4 + 4 + 4 + 4 + 8 + 8 + 8 + 4 + 8 == LIQ_SER_STATS_OFF &&
               LIQ_SER_STATS_OFF + 8 * 9 == LIQ_SER_STATS_END, "book.h documents where the stats lie");
_Static_assert(sizeof(liq_book_stats) == 9 * sizeof(uint64_t), "serialization writes 9 stats counters");

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

/* A label as stored: u32 length (LABEL_NONE: absent) and its bytes. */
#define LABEL_NONE 0xFFFFFFFFu

static size_t labels_size(const liq_labels *lab)
{
    return lab ? 4 + (lab->symbol ? lab->symbol_len : 0) + 4 + (lab->exchange ? lab->exchange_len : 0) : 0;
}

static uint8_t *put_label(uint8_t *p, const char *s, size_t n)
{
    p = put_u32(p, s ? (uint32_t)n : LABEL_NONE);
    if (s && n) memcpy(p, s, n);
    return p + (s ? n : 0);
}

size_t liq_book_serialized_size(const liq_book *b)
{
    return liq_book_serialized_size_labeled(b, NULL);
}

size_t liq_book_serialized_size_labeled(const liq_book *b, const liq_labels *lab)
{
    return SER_HEADER + (b->side[0].live + b->side[1].live) * (8 + 8 + 2) + labels_size(lab);
}

size_t liq_book_serialize(const liq_book *b, uint8_t *buf)
{
    return liq_book_serialize_labeled(b, NULL, buf);
}

size_t liq_book_serialize_labeled(const liq_book *b, const liq_labels *lab, uint8_t *buf)
{
    uint8_t *p = buf;
    p = put_u32(p, SER_MAGIC);
    p = put_u32(p, lab ? SER_VERSION_LABELS : SER_VERSION);
    p = put_u32(p, (uint32_t)b->px_scale);
    p = put_u32(p, (uint32_t)b->qty_scale);
    p = put_u64(p, (uint64_t)b->tick);
    p = put_u64(p, (uint64_t)b->lot);
    p = put_u64(p, (uint64_t)b->max_depth);
    p = put_u32(p, (uint32_t)b->cross_policy | (uint32_t)b->seq_rule << 8 | (uint32_t)(b->after_snapshot != 0) << 16);
    p = put_u64(p, (uint64_t)b->last_id);
    uint64_t st[9];   /* copied out: indexing past &stats.messages would be out of bounds */
    memcpy(st, &b->stats, sizeof st);
    for (int i = 0; i < 9; i++) p = put_u64(p, st[i]);
    p = put_u64(p, b->side[0].live);
    p = put_u64(p, b->side[1].live);
    /* live levels only, worst first: holes are an in-memory detail, not book state */
    for (int sd = 0; sd < 2; sd++) {
        const liq_side *s = &b->side[sd];
        for (size_t i = 0; i < s->len; i++) if (s->qty[i]) p = put_u64(p, (uint64_t)s->key[i]);
        for (size_t i = 0; i < s->len; i++) if (s->qty[i]) p = put_u64(p, (uint64_t)s->qty[i]);
        for (size_t i = 0; i < s->len; i++) {
            if (!s->qty[i]) continue;
            p[0] = (uint8_t)s->dec[i];
            p[1] = (uint8_t)(s->dec[i] >> 8);
            p += 2;
        }
    }
    if (lab) {
        p = put_label(p, lab->symbol, lab->symbol_len);
        p = put_label(p, lab->exchange, lab->exchange_len);
    }
    return (size_t)(p - buf);
}

/* Read a label at *p within end; 0 when it does not fit or is too long. */
static int get_label(const uint8_t **p, const uint8_t *end, const char **s, size_t *n)
{
    if (end - *p < 4) return 0;
    uint32_t m = get_u32(*p);
    *p += 4;
    if (m == LABEL_NONE) {
        *s = NULL;
        *n = 0;
        return 1;
    }
    if (m > LIQ_LABEL_MAX || (size_t)(end - *p) < m) return 0;
    *s = (const char *)*p;
    *n = m;
    *p += m;
    return 1;
}

liq_status liq_book_deserialize(liq_book *b, const uint8_t *buf, size_t len)
{
    return liq_book_deserialize_labeled(b, buf, len, NULL);
}

liq_status liq_book_deserialize_labeled(liq_book *b, const uint8_t *buf, size_t len, liq_labels *lab)
{
    if (lab) memset(lab, 0, sizeof *lab);
    if (len < SER_HEADER) return LIQ_ERR_FORMAT;
    const uint8_t *p = buf;
    const uint32_t version = get_u32(p + 4);
    if (get_u32(p) != SER_MAGIC || (version != SER_VERSION && version != SER_VERSION_LABELS)) return LIQ_ERR_FORMAT;
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
    if (cross > LIQ_CROSS_ALLOW || rule > LIQ_SEQ_RULE_MAX || (flags >> 17)) return LIQ_ERR_FORMAT;
    t.cross_policy = (liq_cross_policy)cross;
    t.seq_rule = (liq_seq_rule)rule;
    t.after_snapshot = (int)((flags >> 16) & 1);
    t.last_id = last_id;
    uint64_t st[9];
    for (int i = 0; i < 9; i++, p += 8) st[i] = get_u64(p);
    memcpy(&t.stats, st, sizeof st);
    uint64_t n[2] = {get_u64(p), get_u64(p + 8)};
    p += 16;
    if (n[0] > len / 18 || n[1] > len / 18) return LIQ_ERR_FORMAT;
    const size_t body = SER_HEADER + (n[0] + n[1]) * 18;   /* no overflow: each n <= len / 18 */
    liq_labels got = {NULL, 0, NULL, 0};
    if (version == SER_VERSION_LABELS) {
        const uint8_t *q = buf + (body <= len ? body : len), *end = buf + len;
        if (body > len || !get_label(&q, end, &got.symbol, &got.symbol_len) ||
            !get_label(&q, end, &got.exchange, &got.exchange_len) || q != end)
            return LIQ_ERR_FORMAT;
    } else if (body != len) {
        return LIQ_ERR_FORMAT;
    }
    /* every mutating call truncates to max_depth, so a deeper side is not a book we wrote */
    if (max_depth && (n[0] > max_depth || n[1] > max_depth)) return LIQ_ERR_FORMAT;
    for (int sd = 0; sd < 2; sd++) {
        liq_side *s = &t.side[sd];
        if (n[sd] && side_grow(s, n[sd]) != LIQ_OK) { liq_book_free(&t); return LIQ_ERR_NOMEM; }
        for (size_t i = 0; i < n[sd]; i++, p += 8) s->key[i] = (int64_t)get_u64(p);
        for (size_t i = 0; i < n[sd]; i++, p += 8) s->qty[i] = (int64_t)get_u64(p);
        for (size_t i = 0; i < n[sd]; i++, p += 2) s->dec[i] = (uint16_t)(p[0] | p[1] << 8);
        s->len = s->live = n[sd];
        s->dstart = s->len;
        for (size_t i = 0; i < s->len; i++) {
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
    if (side_make_dense(&t.side[0], t.tick) != LIQ_OK || side_make_dense(&t.side[1], t.tick) != LIQ_OK) {
        liq_book_free(&t);
        return LIQ_ERR_NOMEM;
    }
    t.generation = b->generation + 1;
    liq_book_free(b);
    *b = t;
    if (lab) *lab = got;
    return LIQ_OK;
}
