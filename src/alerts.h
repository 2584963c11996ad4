/*
 * alerts.h — the four liquidity alert rules and their debounce, per market, in C.
 *
 * The compiled form of liqcore/alerts/rules.py (its module docstring is the specification):
 * SPREAD_WIDENING (robust z of log spread over a sampled lookback window), DEPTH_DROP (±1% depth
 * of a side against a time-decaying EWMA), IMBALANCE (|I| above a level held for a time, or |z|
 * of I on an EWMA) and PRICE_ANOMALY (1-s log return in σ of its EWMA, or deviation from the
 * cross-venue median price), each debounced into episodes (an episode starts when `fire` of
 * the last `window` checks breached, ends after `clear` consecutive clearing checks).
 *
 * One liq_alerts holds the state of one market for an ordered list of rules (any of the four
 * kinds, repeated or not). liq_alerts_observe judges one observation and reports which rules
 * started or ended an episode, with what the caller needs to build the alert record.
 *
 * Same floating-point operations in the same order as rules.py, with the same libm (log, exp,
 * pow, sqrt), so the numbers are identical; the exceptions are two int/int divisions Python
 * rounds exactly (a time gap in s, and a gap over the return interval) where C rounds the gap to
 * double first: identical while the gap is below 2^53 ns (104 days), within 1 ulp beyond.
 * Build this file with -ffp-contract=off (no fused multiply-add), as CMakeLists.txt does.
 *
 * Units: times in ns since the epoch (int64, any value: differences are computed without
 * overflow); prices quote per base; depth in quote notional; spread in bps; imbalance -1..1.
 * Ownership: liq_alerts_create allocates, liq_alerts_destroy frees; memory grows only inside
 * liq_alerts_observe (the spread windows) and is bounded (see LIQ_ALERT_SPREAD_WIDENING).
 * Not thread-safe: one owner per liq_alerts.
 */
#ifndef LIQ_ALERTS_H
#define LIQ_ALERTS_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The rule kinds, in the order of liqcore.alerts.ALERT_TYPES. */
typedef enum liq_alert_kind {
    LIQ_ALERT_SPREAD_WIDENING = 0,
    LIQ_ALERT_DEPTH_DROP = 1,
    LIQ_ALERT_IMBALANCE = 2,
    LIQ_ALERT_PRICE_ANOMALY = 3
} liq_alert_kind;

/* The constants of the robust scale (liqcore.alerts.baselines): MAD / 0.6745 estimates σ, and the
 * mean absolute deviation times 1.2533 (sqrt(pi/2)) when the MAD is 0. */
#define LIQ_ALERTS_IGLEWICZ_HOAGLIN 0.6745
#define LIQ_ALERTS_MEAN_AD_TO_SIGMA 1.2533
/* The robust scale's floor (a constant spread has scale 0: z stays finite). */
#define LIQ_ALERTS_SCALE_FLOOR 1e-12
/* Debounce windows are a 64-bit shift register. */
#define LIQ_ALERTS_MAX_WINDOW 64

/* SPREAD_WIDENING: z = (log(spread) - median) / scale over the window of log spreads, one value
 * kept per `sample_ns` over `lookback_ns`, the median and scale recomputed every `refresh_ns`
 * (O(window) by quickselect), judged once the window holds `min_count` values. Breach: z > z
 * and spread / exp(median) > ratio; clear: z < clear_z or ratio < clear_ratio. Window bound per
 * market: with sample_ns > 0, at most (lookback_ns + refresh_ns) / sample_ns + 1 values (those
 * after the last refresh minus its lookback; the times kept rise by sample_ns at least), and never
 * more than the observations in that span; 24 bytes each (time, value, selection scratch), the
 * capacity below 8/3 of the values kept (the default 300 s / 0.1 s: 3,051 values, < 200 KB). */
typedef struct liq_alert_spread_params {
    double z, ratio, clear_z, clear_ratio;   /* > 0, clear_* <= their breach thresholds */
    int64_t lookback_ns, sample_ns, refresh_ns;   /* >= 0 */
    int64_t min_count;                       /* >= 1 */
} liq_alert_spread_params;

/* DEPTH_DROP: drop % of each side's ±1% depth below its EWMA (half-life `half_life_s`, judged
 * once both have been fed `warmup_s`); breach: drop >= drop_pct; clear: both drops < clear_pct. */
typedef struct liq_alert_depth_params {
    double drop_pct;      /* (0, 100] */
    double clear_pct;     /* [0, drop_pct] */
    double half_life_s;   /* > 0 */
    double warmup_s;      /* >= 0 */
} liq_alert_depth_params;

/* IMBALANCE: |I| > level held for `hold_ns`, or (has_z) |z| of I on its EWMA > z; clear:
 * |I| < clear_level. */
typedef struct liq_alert_imbalance_params {
    double level, clear_level;   /* 0 <= clear_level <= level < 1 */
    int64_t hold_ns;             /* >= 0 */
    int has_z;                   /* 0: the z test is off */
    double z;                    /* > 0 when has_z */
    double half_life_s;          /* > 0 */
} liq_alert_imbalance_params;

/* PRICE_ANOMALY: the log return of the mid over at least `interval_ns` (scaled by
 * sqrt(gap / interval)) in σ of the EWMA of r² (after `warmup` returns) above z, or
 * |mid - reference| > max(venue_spreads x the spread, venue_bps of the mid); clear when both
 * are below half. An observation without a mid restarts the returns. */
typedef struct liq_alert_price_params {
    double z, venue_spreads;   /* > 0 */
    double venue_bps;          /* >= 0: the floor of the venue deviation, bps of the mid */
    int64_t interval_ns;       /* >= 1 */
    double half_life_s;        /* > 0 */
    int64_t warmup;            /* >= 1 returns */
} liq_alert_price_params;

/* One rule: its kind, the parameters of that kind (the other members are ignored) and its
 * debounce (1 <= fire <= window <= LIQ_ALERTS_MAX_WINDOW, clear >= 1). */
typedef struct liq_alert_rule {
    liq_alert_kind kind;
    int64_t fire, window, clear;
    liq_alert_spread_params spread;
    liq_alert_depth_params depth;
    liq_alert_imbalance_params imbalance;
    liq_alert_price_params price;
} liq_alert_rule;

typedef enum liq_alert_event_kind {
    LIQ_ALERT_START = 1,   /* an episode starts with this observation */
    LIQ_ALERT_END = 2      /* the episode of this rule ends with this observation */
} liq_alert_event_kind;

/* Flags of an event's optional values. */
enum {
    LIQ_ALERT_HAS_Z = 1,        /* z is a number (else None: DEPTH_DROP, IMBALANCE before any variance) */
    LIQ_ALERT_HAS_HELD = 2,     /* IMBALANCE: held_since_ns is set (|I| above the level now) */
    LIQ_ALERT_HAS_SIGMA = 4,    /* PRICE_ANOMALY: the return σ is known (values[0]) */
    LIQ_ALERT_BY_VENUE = 8      /* PRICE_ANOMALY: the deviation from the venues breached */
};

/*
 * What a rule reported. For LIQ_ALERT_START, the check that passed the debounce: current and
 * baseline values of the metric (spread bps and its median; depth of the side that dropped most
 * and its EWMA before this observation; I and its EWMA mean; the mid and the previous return's
 * start mid or the reference price), z, the measure severity is graded on (spread ratio, drop %,
 * |I|, the larger threshold multiple) and the baseline state after the observation:
 *   SPREAD_WIDENING  values[0] scale of log spread             ivalue: values in the baseline
 *   DEPTH_DROP       values[0], [1]: bid, ask EWMA             ivalue: side, 0 bid / 1 ask
 *   IMBALANCE        values[0], [1]: EWMA mean, std of I       ivalue: held since (ns, HAS_HELD)
 *   PRICE_ANOMALY    values[0] σ of the return (HAS_SIGMA),    values[1] deviation in spreads
 * For LIQ_ALERT_END only rule and kind are meaningful.
 */
typedef struct liq_alert_event {
    int32_t rule;     /* index into the rules given to liq_alerts_create */
    int32_t kind;     /* liq_alert_event_kind */
    int32_t flags;    /* LIQ_ALERT_HAS_* / LIQ_ALERT_BY_VENUE */
    double current, baseline, z, measure;
    double values[2];
    int64_t ivalue;
} liq_alert_event;

typedef struct liq_alerts liq_alerts;

/*
 * Check one rule's parameters: LIQ_OK, or LIQ_ERR_ARG when a value is out of its documented
 * range, NaN or infinite, or the kind is unknown. O(1).
 */
liq_status liq_alerts_rule_check(const liq_alert_rule *rule);

/*
 * A fresh market state for rules[0..n) (copied; 1 <= n <= 64), no baseline yet, no episode.
 * *out owns its memory until liq_alerts_destroy. LIQ_ERR_ARG (a rule fails
 * liq_alerts_rule_check, or n out of range; *out untouched), LIQ_ERR_NOMEM. O(n).
 */
liq_status liq_alerts_create(const liq_alert_rule *rules, size_t n, liq_alerts **out);

/* Free a state and everything it owns; NULL is a no-op. */
void liq_alerts_destroy(liq_alerts *a);

/* The number of rules. O(1). */
size_t liq_alerts_rules(const liq_alerts *a);

/* Bytes owned by the state (struct, rules, windows). O(rules). */
size_t liq_alerts_bytes(const liq_alerts *a);

/* Values held in rule `rule`'s spread window since its last refresh (0 for other kinds or an
 * index out of range). O(1). */
size_t liq_alerts_window_len(const liq_alerts *a, size_t rule);

/*
 * Judge one observation with every rule, in rule order. Inputs as liqcore.alerts.Observation:
 * mid and spread_bps NaN when a side is empty, depth 0 for an empty side; NaN and infinities
 * anywhere are data the rules define (a check that cannot use them skips or clears), except
 * reference_price: NaN for none, else finite and > 0.
 *
 * Writes the rules that started or ended an episode to out_events (room for
 * liq_alerts_rules(a) events: a rule reports at most one per call), in rule order, and their
 * number to *n_events. LIQ_ERR_ARG (bad reference_price) and LIQ_ERR_NOMEM (a window could not
 * grow) change nothing and set *n_events = 0.
 * Cost: O(rules) plus, every refresh_ns, O(window) for a spread rule; amortised O(1) growth.
 */
liq_status liq_alerts_observe(liq_alerts *a, int64_t ts_ns, double mid, double spread_bps, double bid_depth,
                              double ask_depth, double imbalance, double reference_price,
                              liq_alert_event *out_events, size_t *n_events);

/*
 * Whether rule `rule` has an episode under way (1), none (0), or the index is out of range
 * (-1). O(1).
 */
int liq_alerts_active(const liq_alerts *a, size_t rule);

/*
 * Whether rule `rule` has finished its warm-up (1), is still warming (0), or the index is out of
 * range (-1). Warm: SPREAD_WIDENING's baseline holds `min_count` values at its last refresh;
 * DEPTH_DROP has fed both sides' baselines `warmup_s` seconds of positive depth; PRICE_ANOMALY
 * has taken `warmup` returns (its cross-venue check judges before that); IMBALANCE is always
 * warm. A rule still warming raises no alert (PRICE_ANOMALY: none from its returns). O(1).
 */
int liq_alerts_warm(const liq_alerts *a, size_t rule);

#ifdef __cplusplus
}
#endif
#endif
