/* The alert rules (src/alerts.h) on hand-computed cases: the robust spread baseline (odd and
 * even medians, the MAD = 0 fallback), depth drop against the EWMA, a held imbalance, a price
 * jump and a venue deviation, M-of-N debounce and the clear count; parameters refused; bad
 * input changes nothing; int64 time limits; the spread window's bound. The same semantics as
 * liqcore/alerts/rules.py, whose differential test (tests/python/test_alerts_kernel.py) checks
 * bit-identical alerts on random streams. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "alerts.h"

#define NS 1000000000LL

static liq_alert_rule spread_rule(void)
{
    liq_alert_rule r;
    memset(&r, 0, sizeof r);
    r.kind = LIQ_ALERT_SPREAD_WIDENING;
    r.fire = 3, r.window = 5, r.clear = 5;
    r.spread = (liq_alert_spread_params){.z = 3.5, .ratio = 2.0, .clear_z = 2.0, .clear_ratio = 1.5,
                                         .lookback_ns = 300 * NS, .sample_ns = NS / 10, .refresh_ns = 5 * NS,
                                         .min_count = 30};
    return r;
}

static liq_alert_rule depth_rule(void)
{
    liq_alert_rule r;
    memset(&r, 0, sizeof r);
    r.kind = LIQ_ALERT_DEPTH_DROP;
    r.fire = 3, r.window = 5, r.clear = 5;
    r.depth = (liq_alert_depth_params){.drop_pct = 50, .clear_pct = 30, .half_life_s = 600, .warmup_s = 30};
    return r;
}

static liq_alert_rule imbalance_rule(void)
{
    liq_alert_rule r;
    memset(&r, 0, sizeof r);
    r.kind = LIQ_ALERT_IMBALANCE;
    r.fire = 3, r.window = 5, r.clear = 5;
    r.imbalance = (liq_alert_imbalance_params){.level = 0.6, .clear_level = 0.4, .hold_ns = 10 * NS, .has_z = 0,
                                               .z = 0, .half_life_s = 300};
    return r;
}

static liq_alert_rule price_rule(void)
{
    liq_alert_rule r;
    memset(&r, 0, sizeof r);
    r.kind = LIQ_ALERT_PRICE_ANOMALY;
    r.fire = 1, r.window = 1, r.clear = 3;
    r.price = (liq_alert_price_params){.z = 5, .venue_spreads = 5, .interval_ns = NS, .half_life_s = 300,
                                       .warmup = 30};
    return r;
}

/* One observation of a two-sided book; the events' count. */
static size_t obs(liq_alerts *a, int64_t ts, double mid, double spread, double bid, double ask, double imb,
                  double ref, liq_alert_event *ev)
{
    size_t n = 99;
    CHECK_EQ_I64(liq_alerts_observe(a, ts, mid, spread, bid, ask, imb, ref, ev, &n), LIQ_OK);
    return n;
}

/* A state for one rule (checked created). */
static liq_alerts *created(const liq_alert_rule *r)
{
    liq_alerts *a = NULL;
    CHECK_EQ_I64(liq_alerts_create(r, 1, &a), LIQ_OK);
    return a;
}

/* A spread rule judging every observation (sample and refresh 0, fire 1 of 1) fed spreads
 * s[0..n) one second apart; breach at z > 2 (and ratio > `ratio`). */
static liq_alerts *spread_fed(const double *s, int n, double ratio)
{
    liq_alert_rule r = spread_rule();
    r.fire = r.window = 1;
    r.spread.z = 2.0, r.spread.clear_z = 1.0, r.spread.ratio = ratio, r.spread.clear_ratio = 1.0;
    r.spread.min_count = n, r.spread.refresh_ns = 0, r.spread.sample_ns = 0;
    liq_alerts *a = created(&r);
    liq_alert_event ev[1];
    for (int k = 0; k < n; k++) CHECK_EQ_I64(obs(a, k * NS, 100, s[k], 1, 1, 0, NAN, ev), 0);
    CHECK_EQ_I64((long long)liq_alerts_window_len(a, 0), n);
    return a;
}

static void test_parameters_are_checked(void)
{
    liq_alert_rule r = spread_rule();
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_OK);
    r.spread.clear_z = 4.0;                                   /* above the breach z */
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = spread_rule();
    r.spread.z = NAN;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = spread_rule();
    r.spread.min_count = 0;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = spread_rule();
    r.window = LIQ_ALERTS_MAX_WINDOW + 1;
    r.fire = 1;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r.window = LIQ_ALERTS_MAX_WINDOW;                         /* the largest window is fine */
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_OK);
    r.fire = 65;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = depth_rule();
    r.depth.drop_pct = 150;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = depth_rule();
    r.depth.half_life_s = INFINITY;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = imbalance_rule();
    r.imbalance.level = 1.0;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = imbalance_rule();
    r.imbalance.has_z = 1;                                    /* z on but 0 */
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = price_rule();
    r.price.interval_ns = 0;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);
    r = price_rule();
    r.kind = (liq_alert_kind)7;
    CHECK_EQ_I64(liq_alerts_rule_check(&r), LIQ_ERR_ARG);

    liq_alerts *a = (liq_alerts *)&r;                         /* must stay untouched */
    CHECK_EQ_I64(liq_alerts_create(&r, 1, &a), LIQ_ERR_ARG);
    CHECK(a == (liq_alerts *)&r);
    r = price_rule();
    CHECK_EQ_I64(liq_alerts_create(&r, 0, &a), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_alerts_create(&r, 1, &a), LIQ_OK);
    CHECK_EQ_I64((long long)liq_alerts_rules(a), 1);
    CHECK_EQ_I64(liq_alerts_active(a, 1), -1);
    liq_alerts_destroy(a);
    liq_alerts_destroy(NULL);
}

/* Spreads 1, 2, 4 bps: log values 0, l, 2l (l = ln 2): median l, MAD l, scale l / 0.6745. A
 * spread of 16 then has z = 3l / scale = 3 x 0.6745 and ratio 16 / 2 = 8. */
static void test_spread_robust_z_odd_count(void)
{
    const double s[3] = {1, 2, 4};
    liq_alerts *a = spread_fed(s, 3, 2.0);
    liq_alert_event ev[1];
    CHECK_EQ_I64(obs(a, 3 * NS, 100, 16, 1, 1, 0, NAN, ev), 1);
    CHECK_EQ_I64(ev[0].kind, LIQ_ALERT_START);
    CHECK_EQ_I64(ev[0].rule, 0);
    CHECK(ev[0].flags & LIQ_ALERT_HAS_Z);
    CHECK_NEAR(ev[0].current, 16.0, 0);
    CHECK_NEAR(ev[0].baseline, 2.0, 1e-12);
    CHECK_NEAR(ev[0].z, 3 * LIQ_ALERTS_IGLEWICZ_HOAGLIN, 1e-12);
    CHECK_NEAR(ev[0].measure, 8.0, 1e-12);
    CHECK_NEAR(ev[0].values[0], log(2.0) / LIQ_ALERTS_IGLEWICZ_HOAGLIN, 1e-15);
    CHECK_EQ_I64(ev[0].ivalue, 3);
    CHECK_EQ_I64(liq_alerts_active(a, 0), 1);
    liq_alerts_destroy(a);
}

/* Spreads 1, 2, 4, 8: log values 0, l, 2l, 3l: median 1.5 l (mean of the middle two), deviations
 * 1.5l, 0.5l, 0.5l, 1.5l: MAD l. Spread 2^1.5 x 16 -> z = 4l / (l / 0.6745) = 2.698. */
static void test_spread_even_count_median(void)
{
    const double s[4] = {1, 2, 4, 8};
    liq_alerts *a = spread_fed(s, 4, 2.0);
    liq_alert_event ev[1];
    CHECK_EQ_I64(obs(a, 4 * NS, 100, pow(2.0, 5.5), 1, 1, 0, NAN, ev), 1);
    CHECK_NEAR(ev[0].baseline, pow(2.0, 1.5), 1e-12);
    CHECK_NEAR(ev[0].z, 4 * LIQ_ALERTS_IGLEWICZ_HOAGLIN, 1e-12);
    CHECK_NEAR(ev[0].measure, 16.0, 1e-12);
    liq_alerts_destroy(a);
}

/* Five spreads of 1 and one of e: median 0, MAD 0 -> scale = mean |dev| x 1.2533 = (1/6) 1.2533;
 * a spread of e is z = 1 / scale = 4.79 and ratio e. */
static void test_spread_mad_zero_falls_back_to_the_mean_deviation(void)
{
    const double s[6] = {1, 1, exp(1.0), 1, 1, 1};
    liq_alerts *a = spread_fed(s, 6, 1.1);
    liq_alert_event ev[1];
    CHECK_EQ_I64(obs(a, 6 * NS, 100, exp(1.0), 1, 1, 0, NAN, ev), 1);
    const double scale = 1.0 / 6.0 * LIQ_ALERTS_MEAN_AD_TO_SIGMA;
    CHECK_NEAR(ev[0].values[0], scale, 1e-15);
    CHECK_NEAR(ev[0].z, 1.0 / scale, 1e-12);
    liq_alerts_destroy(a);
}

/* A constant spread: scale floored at 1e-12, a wider one is a huge z. NaN, 0, inf spreads are
 * skipped (no log spread), and the window keeps one value per sample_ns over the lookback. */
static void test_spread_skips_and_window(void)
{
    liq_alert_rule r = spread_rule();
    liq_alerts *a = created(&r);
    liq_alert_event ev[1];
    for (int k = 0; k < 10; k++) CHECK_EQ_I64(obs(a, k * NS / 100, 100, 1, 1, 1, 0, NAN, ev), 0);
    CHECK_EQ_I64((long long)liq_alerts_window_len(a, 0), 1);           /* 10 ms apart, sample 100 ms */
    const double bad[4] = {NAN, 0.0, -1.0, INFINITY};
    for (int k = 0; k < 4; k++) CHECK_EQ_I64(obs(a, NS + k * NS, 100, bad[k], 1, 1, 0, NAN, ev), 0);
    CHECK_EQ_I64((long long)liq_alerts_window_len(a, 0), 1);
    /* 30 minutes at 100 updates/s: the window stays within (lookback + refresh) / sample + 1 */
    const size_t bound = (size_t)((r.spread.lookback_ns + r.spread.refresh_ns) / r.spread.sample_ns + 1);
    size_t most = 0, started = 0;
    for (int64_t k = 0; k < 180000; k++) {
        started += obs(a, 10 * NS + k * NS / 100, 100, 1.0, 1, 1, 0, NAN, ev);
        size_t len = liq_alerts_window_len(a, 0);
        if (len > most) most = len;
    }
    CHECK(most <= bound && most >= bound - 60);
    CHECK(liq_alerts_bytes(a) < 3 * bound * 24 + 4096);   /* capacity < 8/3 x the values kept */
    CHECK_EQ_I64((long long)started, 0);
    /* constant baseline: scale 1e-12, a spread of 3 is z ~ 1e12 and ratio 3 */
    size_t n = 0;
    for (int k = 0; k < 3; k++) n += obs(a, 2000 * NS + k * NS / 10, 100, 3.0, 1, 1, 0, NAN, ev);
    CHECK_EQ_I64((long long)n, 1);
    CHECK(ev[0].z > 1e11);
    CHECK_NEAR(ev[0].values[0], LIQ_ALERTS_SCALE_FLOOR, 0);
    liq_alerts_destroy(a);
}

/* Depth 100 per side for 40 s, then the bid falls to 10 (drop 90%) for 3 updates: an episode on
 * the bid side; back to 100 for 5 updates: it ends. A one-sided book is a 100% drop. */
static void test_depth_drop(void)
{
    liq_alert_rule r = depth_rule();
    liq_alerts *a = created(&r);
    liq_alert_event ev[1];
    int64_t t = 0;
    for (int k = 0; k < 40; k++, t += NS) CHECK_EQ_I64(obs(a, t, 100, 1, 100, 100, 0, NAN, ev), 0);
    CHECK_EQ_I64(obs(a, t, 100, 1, 10, 100, 0, NAN, ev), 0);
    t += NS;
    CHECK_EQ_I64(obs(a, t, 100, 1, 10, 100, 0, NAN, ev), 0);
    t += NS;
    CHECK_EQ_I64(obs(a, t, 100, 1, 10, 100, 0, NAN, ev), 1);
    CHECK_EQ_I64(ev[0].kind, LIQ_ALERT_START);
    CHECK(!(ev[0].flags & LIQ_ALERT_HAS_Z) && isnan(ev[0].z));
    CHECK_EQ_I64(ev[0].ivalue, 0);                                     /* bid */
    CHECK_NEAR(ev[0].current, 10, 0);
    CHECK(ev[0].baseline < 100 && ev[0].baseline > 90);               /* the EWMA before this update */
    CHECK_NEAR(ev[0].measure, 100.0 * (1.0 - 10 / ev[0].baseline), 0);
    CHECK(ev[0].values[0] < ev[0].baseline);                          /* bid EWMA after it */
    CHECK_NEAR(ev[0].values[1], 100.0, 1e-9);
    size_t ends = 0;
    for (int k = 0; k < 5; k++) {
        t += NS;
        ends += obs(a, t, 100, 1, 100, 100, 0, NAN, ev);
    }
    CHECK_EQ_I64((long long)ends, 1);
    CHECK_EQ_I64(ev[0].kind, LIQ_ALERT_END);
    CHECK_EQ_I64(liq_alerts_active(a, 0), 0);
    /* one-sided: ask gone, mid and spread NaN */
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        t += NS;
        n += obs(a, t, NAN, NAN, 100, 0, 1, NAN, ev);
    }
    CHECK_EQ_I64((long long)n, 1);
    CHECK_EQ_I64(ev[0].ivalue, 1);
    CHECK_NEAR(ev[0].measure, 100.0, 0);
    liq_alerts_destroy(a);
}

/* |I| = 0.8 from t = 0: the hold of 10 s passes at t = 10 s, the third breach (fire 3 of 5) at
 * 12 s starts the episode; a flip of side restarts the hold. */
static void test_imbalance_held(void)
{
    liq_alert_rule r = imbalance_rule();
    liq_alerts *a = created(&r);
    liq_alert_event ev[1];
    for (int64_t k = 0; k < 12; k++) {
        CHECK_EQ_I64(obs(a, k * NS, 100, 1, 1, 1, 0.8, NAN, ev), 0);
    }
    CHECK_EQ_I64(obs(a, 12 * NS, 100, 1, 1, 1, 0.8, NAN, ev), 1);
    CHECK(ev[0].flags & LIQ_ALERT_HAS_HELD);
    CHECK_EQ_I64(ev[0].ivalue, 0);
    CHECK_NEAR(ev[0].measure, 0.8, 0);
    CHECK_NEAR(ev[0].baseline, 0.8, 1e-15);     /* a constant I: its EWMA */
    liq_alerts_destroy(a);

    a = created(&r);
    size_t n = 0;
    for (int64_t k = 0; k < 30; k++) n += obs(a, k * NS, 100, 1, 1, 1, k % 8 < 4 ? 0.8 : -0.8, NAN, ev);
    CHECK_EQ_I64((long long)n, 0);               /* never held 10 s on one side */
    /* one-sided observations are skipped and reset the hold */
    for (int64_t k = 30; k < 60; k++) n += obs(a, k * NS, 100, 1, k % 5 ? 1 : 0, 1, 0.8, NAN, ev);
    CHECK_EQ_I64((long long)n, 0);
    liq_alerts_destroy(a);
}

/* A calm mid (returns of ±1e-4 alternating) then a 2% jump: z ~ 200 on the first return after
 * warmup; clears after 3 calm returns. */
static void test_price_jump_and_venue_deviation(void)
{
    liq_alert_rule r = price_rule();
    liq_alerts *a = created(&r);
    liq_alert_event ev[1];
    double mid = 100.0;
    int64_t t = 0;
    for (int k = 0; k < 40; k++, t += NS) {
        mid *= k % 2 ? 1.0001 : 1 / 1.0001;
        CHECK_EQ_I64(obs(a, t, mid, 1, 1, 1, 0, NAN, ev), 0);
    }
    const double before = mid;
    mid *= 1.02;
    CHECK_EQ_I64(obs(a, t, mid, 1, 1, 1, 0, NAN, ev), 1);
    CHECK_EQ_I64(ev[0].kind, LIQ_ALERT_START);
    CHECK(ev[0].z > 100);
    CHECK_NEAR(ev[0].baseline, before, 0);
    CHECK(ev[0].flags & LIQ_ALERT_HAS_SIGMA);
    CHECK(!(ev[0].flags & LIQ_ALERT_BY_VENUE));
    size_t ends = 0;
    for (int k = 0; k < 3; k++) {
        t += NS;
        mid *= k % 2 ? 1.0001 : 1 / 1.0001;
        ends += obs(a, t, mid, 1, 1, 1, 0, NAN, ev);
    }
    CHECK_EQ_I64((long long)ends, 1);
    CHECK_EQ_I64(ev[0].kind, LIQ_ALERT_END);
    /* 8 bps away from the venues' median with a 1 bps spread: 8 spreads > 5 */
    t += NS / 10;
    CHECK_EQ_I64(obs(a, t, mid, 1, 1, 1, 0, mid * 1.0008, ev), 1);
    CHECK(ev[0].flags & LIQ_ALERT_BY_VENUE);
    CHECK_NEAR(ev[0].baseline, mid * 1.0008, 0);
    CHECK_NEAR(ev[0].values[1], 8.0, 1e-9);
    CHECK_NEAR(ev[0].measure, 8.0 / 5.0, 1e-9);
    liq_alerts_destroy(a);
}

/* With fire 3 of 5, breaches at every second observation never reach 3 in a window of 5... they
 * do (positions 0, 2, 4); every third does not. */
static void test_debounce_m_of_n(void)
{
    liq_alert_rule r = imbalance_rule();
    r.imbalance.hold_ns = 0;
    liq_alerts *a = created(&r);
    liq_alert_event ev[1];
    size_t n = 0;
    for (int64_t k = 0; k < 60; k++) n += obs(a, k * NS, 100, 1, 1, 1, k % 3 == 0 ? 0.8 : 0.0, NAN, ev);
    CHECK_EQ_I64((long long)n, 0);
    for (int64_t k = 60; k < 65; k++) n += obs(a, k * NS, 100, 1, 1, 1, k % 2 == 0 ? 0.8 : 0.0, NAN, ev);
    CHECK_EQ_I64((long long)n, 1);
    CHECK_EQ_I64(liq_alerts_active(a, 0), 1);
    /* during the episode a breach resets the clear count: 4 clears, a breach, 4 clears: still on */
    for (int64_t k = 65; k < 74; k++) n += obs(a, k * NS, 100, 1, 1, 1, k == 69 ? 0.8 : 0.0, NAN, ev);
    CHECK_EQ_I64((long long)n, 1);
    n += obs(a, 74 * NS, 100, 1, 1, 1, 0.0, NAN, ev);
    CHECK_EQ_I64((long long)n, 2);
    CHECK_EQ_I64(ev[0].kind, LIQ_ALERT_END);
    liq_alerts_destroy(a);
}

/* Several rules: events in rule order with their index; a bad reference price changes nothing. */
static void test_several_rules_and_bad_input(void)
{
    liq_alert_rule rules[3] = {imbalance_rule(), depth_rule(), imbalance_rule()};
    rules[0].imbalance.hold_ns = 0;
    rules[2].imbalance.hold_ns = 0;
    rules[2].fire = rules[2].window = 1;
    liq_alerts *a;
    CHECK_EQ_I64(liq_alerts_create(rules, 3, &a), LIQ_OK);
    liq_alert_event ev[3];
    size_t n = 7;
    CHECK_EQ_I64(liq_alerts_observe(a, 0, 100, 1, 1, 1, 0.8, INFINITY, ev, &n), LIQ_ERR_ARG);
    CHECK_EQ_I64((long long)n, 0);
    CHECK_EQ_I64(liq_alerts_observe(a, 0, 100, 1, 1, 1, 0.8, -1.0, ev, &n), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_alerts_observe(a, 0, 100, 1, 1, 1, 0.8, NAN, NULL, &n), LIQ_ERR_ARG);
    CHECK_EQ_I64(obs(a, 0, 100, 1, 1, 1, 0.8, NAN, ev), 1);            /* only rule 2 (fire 1 of 1) */
    CHECK_EQ_I64(ev[0].rule, 2);
    CHECK_EQ_I64(obs(a, NS, 100, 1, 1, 1, 0.8, NAN, ev), 0);
    CHECK_EQ_I64(obs(a, 2 * NS, 100, 1, 1, 1, 0.8, NAN, ev), 1);
    CHECK_EQ_I64(ev[0].rule, 0);
    liq_alerts_destroy(a);
}

/* Warm-up, one observation a second: the spread baseline holds min_count = 3 values at a
 * refresh (refresh 0: every observation refreshes before adding, so the 4th sees 3); depth has
 * 2 s on both sides (the first observation starts the clock: the 3rd); price has 2 returns of
 * 1 s (the 3rd observation); imbalance always. An index out of range: -1. */
static void test_warm_up(void)
{
    liq_alert_rule rules[4] = {spread_rule(), depth_rule(), imbalance_rule(), price_rule()};
    rules[0].spread.min_count = 3, rules[0].spread.refresh_ns = 0;
    rules[1].depth.warmup_s = 2;
    rules[3].price.warmup = 2;
    liq_alerts *a;
    CHECK_EQ_I64(liq_alerts_create(rules, 4, &a), LIQ_OK);
    const int expect[5][4] = {{0, 0, 1, 0}, {0, 0, 1, 0}, {0, 0, 1, 0}, {0, 1, 1, 1}, {1, 1, 1, 1}};
    for (int k = 0; k < 4; k++) CHECK_EQ_I64(liq_alerts_warm(a, (size_t)k), expect[0][k]);
    liq_alert_event ev[4];
    for (int64_t t = 0; t < 4; t++) {
        obs(a, t * NS, 100, 1, 100, 100, 0, NAN, ev);
        for (int k = 0; k < 4; k++) CHECK_EQ_I64(liq_alerts_warm(a, (size_t)k), expect[t + 1][k]);
    }
    /* one-sided: depth stays warm (its baselines are kept), bad input changes nothing */
    obs(a, 4 * NS, NAN, NAN, 100, 0, 1, NAN, ev);
    size_t n;
    CHECK_EQ_I64(liq_alerts_observe(a, 5 * NS, NAN, 1, 1, 1, 0, -1.0, ev, &n), LIQ_ERR_ARG);
    for (int k = 0; k < 4; k++) CHECK_EQ_I64(liq_alerts_warm(a, (size_t)k), 1);
    CHECK_EQ_I64(liq_alerts_warm(a, 4), -1);
    CHECK_EQ_I64(liq_alerts_warm(a, SIZE_MAX), -1);
    liq_alerts_destroy(a);
}

/* Times at the int64 limits, backwards and huge gaps: no overflow (UBSan), sane outputs. */
static void test_time_limits(void)
{
    liq_alert_rule rules[4] = {spread_rule(), depth_rule(), imbalance_rule(), price_rule()};
    rules[0].spread.min_count = 1;
    rules[1].depth.warmup_s = 0;
    rules[3].price.warmup = 1;
    liq_alerts *a;
    CHECK_EQ_I64(liq_alerts_create(rules, 4, &a), LIQ_OK);
    liq_alert_event ev[4];
    const int64_t ts[8] = {INT64_MIN, INT64_MAX, 0, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1, -1, INT64_MAX};
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 8; k++) {
            size_t n = obs(a, ts[k], 100.0 + k, 1.0 + k, 1e6, 1e6 / (1 + k), 0.7, NAN, ev);
            CHECK(n <= 4);
            for (size_t e = 0; e < n; e++) CHECK(ev[e].kind == LIQ_ALERT_START || ev[e].kind == LIQ_ALERT_END);
        }
    liq_alerts_destroy(a);
}

int main(void)
{
    test_parameters_are_checked();
    test_spread_robust_z_odd_count();
    test_spread_even_count_median();
    test_spread_mad_zero_falls_back_to_the_mean_deviation();
    test_spread_skips_and_window();
    test_depth_drop();
    test_imbalance_held();
    test_price_jump_and_venue_deviation();
    test_debounce_m_of_n();
    test_several_rules_and_bad_input();
    test_warm_up();
    test_time_limits();
    TEST_MAIN_END();
}
