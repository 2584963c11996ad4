/*
 * fuzz_alerts.c — libFuzzer harness over the alert rules (src/alerts.h).
 *
 * Input: byte 0 = number of rules (1..6); per rule a kind byte, parameter bytes (each picks a
 * value from a table of ordinary and extreme values, or takes 8 raw bytes: NaN, inf, negative,
 * huge) and debounce bytes; then observations until the bytes run out, each a time step (small
 * steps forward or back, or any raw int64 down to INT64_MIN / up to INT64_MAX) and six doubles
 * (table or raw bits, so NaN/inf/subnormal/1e308 and any sign).
 *
 * Checked:
 *   - liq_alerts_create accepts exactly the rules liq_alerts_rule_check accepts;
 *   - observe returns LIQ_OK, or LIQ_ERR_ARG exactly for a reference price that is neither NaN
 *     nor finite and > 0, and then reports no event and changes nothing: a twin state that never
 *     sees the refused calls reports the same events (bit for bit) from then on;
 *   - at most one event per rule, in increasing rule order; a START only for a rule without an
 *     episode, an END only for one with, and liq_alerts_active follows;
 *   - a spread rule's window never holds more than (lookback + refresh) / sample + 1 values
 *     (sample > 0) and liq_alerts_bytes stays below 8/3 of that plus the fixed part.
 * ASan/UBSan catch the rest (no overflow in time arithmetic, no out-of-bounds window access).
 * Violations abort (libFuzzer reports a crash).
 *
 * Build: cmake -DLIQ_BUILD_FUZZ=ON with clang (target fuzz_alerts), or tests/sanitize.sh. With
 * -DLIQ_FUZZ_STANDALONE: a main() replaying the files given (ctest: corpus_alerts/).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alerts.h"

#define FUZZ_HARNESS "fuzz_alerts"
#include "fuzz_fail.h"

#include "fuzz_reader.h"

static double raw_double(rd *r)
{
    uint64_t bits = u64(r);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A double: mostly from the table (so rules see sensible streams and fire), sometimes raw. */
static double num(rd *r, double scale)
{
    static const double table[] = {1.0, 1.0, 1.1, 0.9, 2.0, 5.0, 0.5, 0.1, 0.0, -0.0, -1.0, 10.0, 100.0,
                                   1e-300, 5e-324, 1e308, -1e308};
    const uint8_t b = u8(r);
    if (b < 200) return scale * (1.0 + ((double)b - 100.0) / 400.0);      /* around `scale` */
    if (b < 200 + sizeof table / sizeof *table) return table[b - 200] * scale;
    switch (b % 4) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    default: return raw_double(r);
    }
}

static int64_t i64(rd *r, int64_t typical)
{
    const uint8_t b = u8(r);
    if (b < 240) return typical / 8 * (b % 16 + 1);
    switch (b % 4) {
    case 0: return 0;
    case 1: return INT64_MAX;
    case 2: return -1;
    default: return (int64_t)u64(r);
    }
}

static void read_rule(rd *r, liq_alert_rule *p)
{
    memset(p, 0, sizeof *p);
    p->kind = (liq_alert_kind)(u8(r) % 5);    /* 4: an unknown kind */
    p->window = u8(r) % 70;
    p->fire = 1 + u8(r) % 8 - (u8(r) == 255);   /* now and then 0 */
    p->clear = u8(r) % 8;
    const int64_t s = 1000000000;
    switch (p->kind) {
    case LIQ_ALERT_SPREAD_WIDENING:
        p->spread.z = num(r, 3.0), p->spread.ratio = num(r, 2.0);
        p->spread.clear_z = num(r, 1.0), p->spread.clear_ratio = num(r, 1.2);
        p->spread.lookback_ns = i64(r, 30 * s), p->spread.sample_ns = i64(r, s / 10);
        p->spread.refresh_ns = i64(r, s), p->spread.min_count = i64(r, 16);
        break;
    case LIQ_ALERT_DEPTH_DROP:
        p->depth.drop_pct = num(r, 50.0), p->depth.clear_pct = num(r, 20.0);
        p->depth.half_life_s = num(r, 10.0), p->depth.warmup_s = num(r, 1.0);
        break;
    case LIQ_ALERT_IMBALANCE:
        p->imbalance.level = num(r, 0.5), p->imbalance.clear_level = num(r, 0.3);
        p->imbalance.hold_ns = i64(r, s), p->imbalance.has_z = u8(r) & 1;
        p->imbalance.z = num(r, 2.0), p->imbalance.half_life_s = num(r, 10.0);
        break;
    case LIQ_ALERT_PRICE_ANOMALY:
        p->price.z = num(r, 3.0), p->price.venue_spreads = num(r, 3.0);
        p->price.interval_ns = i64(r, s), p->price.half_life_s = num(r, 30.0), p->price.warmup = i64(r, 8);
        p->price.venue_bps = num(r, 10.0);
        break;
    default:
        break;
    }
}

static int same_event(const liq_alert_event *a, const liq_alert_event *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd r = {data, size, 0};
    const size_t n = (size_t)(u8(&r) % 6) + 1;
    liq_alert_rule rules[6];
    int all_ok = 1;
    for (size_t k = 0; k < n; k++) {
        read_rule(&r, &rules[k]);
        if (liq_alerts_rule_check(&rules[k]) != LIQ_OK) all_ok = 0;
    }
    liq_alerts *a = NULL, *twin = NULL;
    liq_status st = liq_alerts_create(rules, n, &a);
    if ((st == LIQ_OK) != all_ok) FAIL("create returned %d, rule checks say %d", (int)st, all_ok);
    if (st != LIQ_OK) return 0;
    if (liq_alerts_create(rules, n, &twin) != LIQ_OK) FAIL("twin create");
    const size_t fixed_bytes = liq_alerts_bytes(a);   /* no window yet */
    int active[6] = {0};
    size_t starts = 0, observed = 0;
    int64_t ts = 1700000000LL * 1000000000LL;
    liq_alert_event ev[6], ev2[6];
    while (more(&r)) {
        const uint8_t step = u8(&r);
        int64_t dt = 0;
        if (step < 200) dt = (int64_t)step * 10000000;                  /* 0..2 s forward */
        else if (step < 230) dt = -(int64_t)(step - 200) * 100000000;   /* back up to 3 s */
        else if (step < 250) dt = (int64_t)1 << (step - 200);           /* long gaps */
        else ts = (int64_t)u64(&r);                                     /* anywhere */
        (void)__builtin_add_overflow(ts, dt, &ts);                      /* wraps past INT64_MAX */
        const double mid = num(&r, 100.0), spread = num(&r, 1.0), bid = num(&r, 1e6), ask = num(&r, 1e6);
        const double imb = num(&r, 0.5) - 0.5;
        const uint8_t rb = u8(&r);
        const double ref = rb < 128 ? NAN : num(&r, 100.0);
        const int ref_ok = isnan(ref) || (isfinite(ref) && ref > 0.0);
        size_t got = 99, got2 = 99;
        st = liq_alerts_observe(a, ts, mid, spread, bid, ask, imb, ref, ev, &got);
        if (!ref_ok) {
            if (st != LIQ_ERR_ARG || got != 0) FAIL("bad reference %g: status %d, %zu events", ref, (int)st, got);
            continue;                                                   /* the twin skips it */
        }
        if (st != LIQ_OK) FAIL("observe returned %d", (int)st);
        observed++;
        if (liq_alerts_observe(twin, ts, mid, spread, bid, ask, imb, ref, ev2, &got2) != LIQ_OK) FAIL("twin");
        if (got != got2) FAIL("twin reported %zu events, the state %zu", got2, got);
        if (got > n) FAIL("%zu events for %zu rules", got, n);
        for (size_t e = 0; e < got; e++) {
            if (!same_event(&ev[e], &ev2[e])) FAIL("event %zu differs from the twin's", e);
            const int k = ev[e].rule;
            if (k < 0 || (size_t)k >= n || (e > 0 && k <= ev[e - 1].rule)) FAIL("event rule %d out of order", k);
            if (ev[e].kind == LIQ_ALERT_START) {
                starts++;
                if (active[k]) FAIL("start of rule %d during its episode", k);
                active[k] = 1;
            } else if (ev[e].kind == LIQ_ALERT_END) {
                if (!active[k]) FAIL("end of rule %d without an episode", k);
                active[k] = 0;
            } else {
                FAIL("event kind %d", ev[e].kind);
            }
        }
        double room = 0;   /* what the windows may own: capacity < 8/3 of the bound, or the first 64 */
        for (size_t k = 0; k < n; k++) {
            if (liq_alerts_active(a, k) != active[k]) FAIL("rule %zu active %d, events say %d", k,
                                                           liq_alerts_active(a, k), active[k]);
            const int warm = liq_alerts_warm(a, k);
            if ((warm != 0 && warm != 1) || warm != liq_alerts_warm(twin, k)) FAIL("rule %zu warm %d", k, warm);
            const liq_alert_spread_params *p = &rules[k].spread;
            if (rules[k].kind == LIQ_ALERT_SPREAD_WIDENING && p->sample_ns > 0) {
                const double bound = floor(((double)p->lookback_ns + (double)p->refresh_ns) / (double)p->sample_ns) + 1;
                if ((double)liq_alerts_window_len(a, k) > bound) FAIL("window of %zu values over its bound %g",
                                                                      liq_alerts_window_len(a, k), bound);
                room += fmax(64.0, 8.0 / 3.0 * bound) * 24.0;
            } else if (rules[k].kind == LIQ_ALERT_SPREAD_WIDENING) {
                room = INFINITY;   /* sample 0: one value per observation in the span */
            }
        }
        if ((double)(liq_alerts_bytes(a) - fixed_bytes) > room) FAIL("%zu bytes of windows", liq_alerts_bytes(a) - fixed_bytes);
    }
#ifdef LIQ_FUZZ_VERBOSE
    fprintf(stderr, "%zu rules, %zu observations, %zu episodes\n", n, observed, starts);
#endif
    (void)starts;
    (void)observed;
    liq_alerts_destroy(a);
    liq_alerts_destroy(twin);
    return 0;
}

#include "fuzz_standalone.h"
