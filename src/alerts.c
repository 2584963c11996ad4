#include "alerts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

/* Every line that computes a rule's number mirrors liqcore/alerts/rules.py operation for
 * operation (same order, same libm calls), so both paths give bit-identical alerts; where
 * Python's semantics need care (integer time differences, max() with NaN, truthiness) the
 * comment says what is reproduced. */

#define NS_PER_S 1000000000LL
#define MAX_RULES 64

/* ------------------------------------------------------------------ integer time */

/* a - b >= k, exactly (Python ints do not overflow: neither may we). */
static int diff_ge(int64_t a, int64_t b, int64_t k)
{
    int64_t d;
    if (__builtin_sub_overflow(a, b, &d)) return a > b;   /* |a - b| > 2^63 - 1 >= |k| */
    return d >= k;
}

/* max(a - b, 0) as a double, rounded once from the exact difference (which may need 64 bits:
 * Python's float(int) rounds the exact value). */
static double gap_pos(int64_t a, int64_t b)
{
    if (a <= b) return 0.0;
    return (double)((uint64_t)a - (uint64_t)b);
}

/* ------------------------------------------------------------------ time EWMA (_TimeEwma) */

typedef struct ewma {
    double half_life;   /* ns, as Python's half_life_s * _NS */
    double s, w, v, wv, mean, var, seconds;
    int64_t ts;
} ewma;

static void ewma_init(ewma *e, double half_life_s)
{
    memset(e, 0, sizeof *e);
    e->half_life = half_life_s * (double)NS_PER_S;
    e->mean = NAN;
}

static void ewma_update(ewma *e, int64_t ts, double x)
{
    double lam;
    if (e->w != 0.0) {              /* Python: `if self.w:` */
        const double dt = gap_pos(ts, e->ts);
        lam = pow(0.5, dt / e->half_life);
        /* Python divides the int dt by the int _NS, rounding once: equal while dt < 2^53 */
        e->seconds += dt / (double)NS_PER_S;
        const double d = x - e->mean;
        e->v = d * d + lam * e->v;
        e->wv = 1.0 + lam * e->wv;
        e->var = e->v / e->wv;
    } else {
        lam = 0.0;
    }
    e->s = x + lam * e->s;
    e->w = 1.0 + lam * e->w;
    e->mean = e->s / e->w;
    e->ts = ts;
}

/* ------------------------------------------------------------------ rule states */

typedef struct spread_state {
    int64_t *ts;        /* window times, [start, len) live, ascending */
    double *x;          /* window log spreads */
    double *scratch;    /* quickselect work area, cap values */
    size_t start, len, cap;
    int64_t last;       /* time of the last value kept */
    double med, mad, scale;   /* of the last refresh; mad also hints the next one */
    int refreshed;      /* Python: st[3] is not None */
    int64_t refreshed_ns;
    int64_t count;      /* values in the baseline */
} spread_state;

typedef struct depth_state {
    ewma bid, ask;
    int side;           /* 0 bid, 1 ask: the side that dropped most at the last check */
} depth_state;

typedef struct imbalance_state {
    int held;           /* Python: st[0] is not None */
    int64_t held_since_ns;
    int sign;
    ewma ew;
} imbalance_state;

typedef struct price_state {
    double mid;         /* mid at the last return's end (NaN: none yet) */
    int64_t ts;
    double prev_mid;    /* the mid before it */
    int64_t returns;
    ewma ew;            /* EWMA of r^2 */
    double z, dev;
    double thr;         /* the venue threshold of the last check, in spreads */
} price_state;

typedef struct debounce_state {
    uint64_t recent;    /* bit 0 = newest check's breach */
    int64_t n_recent, breaches, clears;
    int active;
} debounce_state;

typedef struct rule_state {
    liq_alert_rule p;
    debounce_state d;
    union {
        spread_state spread;
        depth_state depth;
        imbalance_state imbalance;
        price_state price;
    } s;
} rule_state;

struct liq_alerts {
    size_t n;
    rule_state *rules;
};

/* A rule's verdict (rules.py's Check tuple). */
typedef struct check {
    int breach, clear, has_z;
    double current, baseline, z, measure;
} check;

/* ------------------------------------------------------------------ parameters */

static int finite_pos(double x) { return isfinite(x) && x > 0.0; }

liq_status liq_alerts_rule_check(const liq_alert_rule *r)
{
    if (!r) return LIQ_ERR_ARG;
    if (r->fire < 1 || r->window < r->fire || r->window > LIQ_ALERTS_MAX_WINDOW || r->clear < 1) return LIQ_ERR_ARG;
    switch (r->kind) {
    case LIQ_ALERT_SPREAD_WIDENING: {
        const liq_alert_spread_params *p = &r->spread;
        if (!finite_pos(p->z) || !finite_pos(p->ratio) || !finite_pos(p->clear_z) || !finite_pos(p->clear_ratio))
            return LIQ_ERR_ARG;
        if (p->clear_z > p->z || p->clear_ratio > p->ratio) return LIQ_ERR_ARG;
        if (p->lookback_ns < 0 || p->sample_ns < 0 || p->refresh_ns < 0 || p->min_count < 1) return LIQ_ERR_ARG;
        return LIQ_OK;
    }
    case LIQ_ALERT_DEPTH_DROP: {
        const liq_alert_depth_params *p = &r->depth;
        if (!finite_pos(p->drop_pct) || p->drop_pct > 100.0) return LIQ_ERR_ARG;
        if (!isfinite(p->clear_pct) || p->clear_pct < 0.0 || p->clear_pct > p->drop_pct) return LIQ_ERR_ARG;
        if (!finite_pos(p->half_life_s) || !isfinite(p->warmup_s) || p->warmup_s < 0.0) return LIQ_ERR_ARG;
        return LIQ_OK;
    }
    case LIQ_ALERT_IMBALANCE: {
        const liq_alert_imbalance_params *p = &r->imbalance;
        if (!isfinite(p->level) || p->level < 0.0 || p->level >= 1.0) return LIQ_ERR_ARG;
        if (!isfinite(p->clear_level) || p->clear_level < 0.0 || p->clear_level > p->level) return LIQ_ERR_ARG;
        if (p->hold_ns < 0 || !finite_pos(p->half_life_s) || (p->has_z && !finite_pos(p->z))) return LIQ_ERR_ARG;
        return LIQ_OK;
    }
    case LIQ_ALERT_PRICE_ANOMALY: {
        const liq_alert_price_params *p = &r->price;
        if (!finite_pos(p->z) || !finite_pos(p->venue_spreads) || !finite_pos(p->half_life_s)) return LIQ_ERR_ARG;
        if (!(isfinite(p->venue_bps) && p->venue_bps >= 0.0)) return LIQ_ERR_ARG;
        if (p->interval_ns < 1 || p->warmup < 1) return LIQ_ERR_ARG;
        return LIQ_OK;
    }
    }
    return LIQ_ERR_ARG;
}

/* ------------------------------------------------------------------ life cycle */

static void rule_init(rule_state *r, const liq_alert_rule *p)
{
    memset(r, 0, sizeof *r);
    r->p = *p;
    switch (p->kind) {
    case LIQ_ALERT_SPREAD_WIDENING:
        r->s.spread.last = -((int64_t)1 << 62);   /* rules.py's _Window.last */
        r->s.spread.med = NAN;
        r->s.spread.mad = NAN;
        r->s.spread.scale = NAN;
        break;
    case LIQ_ALERT_DEPTH_DROP:
        ewma_init(&r->s.depth.bid, p->depth.half_life_s);
        ewma_init(&r->s.depth.ask, p->depth.half_life_s);
        break;
    case LIQ_ALERT_IMBALANCE:
        ewma_init(&r->s.imbalance.ew, p->imbalance.half_life_s);
        break;
    case LIQ_ALERT_PRICE_ANOMALY:
        r->s.price.mid = NAN;
        r->s.price.prev_mid = NAN;
        r->s.price.thr = p->price.venue_spreads;
        ewma_init(&r->s.price.ew, p->price.half_life_s);
        break;
    }
}

liq_status liq_alerts_create(const liq_alert_rule *rules, size_t n, liq_alerts **out)
{
    if (!rules || !out || n < 1 || n > MAX_RULES) return LIQ_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        liq_status st = liq_alerts_rule_check(&rules[i]);
        if (st != LIQ_OK) return st;
    }
    liq_alerts *a = malloc(sizeof *a);
    rule_state *rs = malloc(n * sizeof *rs);
    if (!a || !rs) {
        free(a);
        free(rs);
        return LIQ_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) rule_init(&rs[i], &rules[i]);
    a->n = n;
    a->rules = rs;
    *out = a;
    return LIQ_OK;
}

void liq_alerts_destroy(liq_alerts *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) {
        if (a->rules[i].p.kind == LIQ_ALERT_SPREAD_WIDENING) {
            free(a->rules[i].s.spread.ts);
            free(a->rules[i].s.spread.x);
            free(a->rules[i].s.spread.scratch);
        }
    }
    free(a->rules);
    free(a);
}

size_t liq_alerts_rules(const liq_alerts *a) { return a->n; }

size_t liq_alerts_bytes(const liq_alerts *a)
{
    size_t b = sizeof *a + a->n * sizeof *a->rules;
    for (size_t i = 0; i < a->n; i++)
        if (a->rules[i].p.kind == LIQ_ALERT_SPREAD_WIDENING)
            b += a->rules[i].s.spread.cap * (sizeof(int64_t) + 2 * sizeof(double));
    return b;
}

size_t liq_alerts_window_len(const liq_alerts *a, size_t rule)
{
    if (rule >= a->n || a->rules[rule].p.kind != LIQ_ALERT_SPREAD_WIDENING) return 0;
    return a->rules[rule].s.spread.len - a->rules[rule].s.spread.start;
}

int liq_alerts_active(const liq_alerts *a, size_t rule)
{
    if (rule >= a->n) return -1;
    return a->rules[rule].d.active;
}

/* Each rule's warm-up (liq_alerts_warm), the same test its check makes. */
static int spread_warm(const liq_alert_spread_params *p, const spread_state *w)
{
    return w->count >= p->min_count;
}

static int depth_warm(const liq_alert_depth_params *p, const depth_state *st)
{
    return st->bid.seconds >= p->warmup_s && st->ask.seconds >= p->warmup_s && st->bid.mean > 0 &&
           st->ask.mean > 0;
}

static int price_warm(const liq_alert_price_params *p, const price_state *st)
{
    return st->returns >= p->warmup;
}

int liq_alerts_warm(const liq_alerts *a, size_t rule)
{
    if (rule >= a->n) return -1;
    const rule_state *r = &a->rules[rule];
    switch (r->p.kind) {
    case LIQ_ALERT_SPREAD_WIDENING: return spread_warm(&r->p.spread, &r->s.spread);
    case LIQ_ALERT_DEPTH_DROP: return depth_warm(&r->p.depth, &r->s.depth);
    case LIQ_ALERT_PRICE_ANOMALY: return price_warm(&r->p.price, &r->s.price);
    default: return 1;
    }
}

/* ------------------------------------------------------------------ spread window */

/* Room for one more value: drop the expired prefix (invisible: only [start, len) is read) when
 * it is at least a quarter of the room, else grow (doubling): each move is paid by the quarter
 * freed, so appends are amortised O(1), and the capacity stays below 8/3 of the values kept
 * (alerts.h gives their bound). Nothing observable changes on failure. */
static liq_status window_reserve(spread_state *w)
{
    if (w->len < w->cap) return LIQ_OK;
    const size_t live = w->len - w->start;
    if (w->start > 0 && w->start >= w->cap / 4) {
        memmove(w->ts, w->ts + w->start, live * sizeof *w->ts);
        memmove(w->x, w->x + w->start, live * sizeof *w->x);
        w->start = 0;
        w->len = live;
        return LIQ_OK;
    }
    if (w->cap > (SIZE_MAX / 2) / sizeof(double)) return LIQ_ERR_NOMEM;
    const size_t cap = w->cap ? w->cap * 2 : 64;
    int64_t *ts = realloc(w->ts, cap * sizeof *ts);
    if (!ts) return LIQ_ERR_NOMEM;
    w->ts = ts;
    double *x = realloc(w->x, cap * sizeof *x);
    if (!x) return LIQ_ERR_NOMEM;   /* ts grew: harmless, cap unchanged */
    w->x = x;
    double *sc = realloc(w->scratch, cap * sizeof *sc);
    if (!sc) return LIQ_ERR_NOMEM;
    w->scratch = sc;
    w->cap = cap;
    return LIQ_OK;
}

/* numpy's pairwise summation (add.reduce of a contiguous float64 array, its identity 0.0
 * first): sequential below 8 values, 8 accumulators up to 128, halves (multiple of 8) above.
 * Reproduced so that dev.mean() is bit-identical. */
static double pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        size_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + (size_t)j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* numpy.median of the n values f(x_i), f the identity or (dev) |x_i - m|, given a band [lo, hi]
 * where it probably lies: the last refresh's median (or MAD) widened a little, the window
 * having slid by a few values since. One branch-free pass counts the values below the band and
 * keeps those inside it, and the selection runs on those only (a few percent of the window:
 * 3,000 values cost ~5 us instead of ~30); when the median is not inside (a jump, a long gap,
 * no hint yet: lo < hi fails on NaN), the selection runs over all n. Exact either way: an order
 * statistic does not depend on how it is found. scratch: room for n values. */
static double median_hint(const double *x, size_t n, int dev, double m, double lo, double hi, double *scratch)
{
    const size_t h = n / 2;                   /* the upper middle (the lower, for even n: h - 1) */
    if (lo < hi) {
        size_t below = 0, in = 0;
        double top_below = -INFINITY;         /* the largest value below the band */
        for (size_t i = 0; i < n; i++) {
            const double v = dev ? fabs(x[i] - m) : x[i];
            const int b = v < lo;
            below += (size_t)b;
            top_below = b && v > top_below ? v : top_below;
            scratch[in] = v;                  /* in <= i: always room; kept when inside */
            in += (size_t)(!b && v <= hi);
        }
        if (h >= below && h < below + in) {
            const size_t k = h - below;
            const double upper = liq_select_kth(scratch, in, k);
            if (n % 2) return upper;
            double lower = top_below;         /* the (h-1)-th: below the band when k = 0 */
            for (size_t i = 0; i < k; i++)
                if (scratch[i] > lower) lower = scratch[i];
            return (lower + upper) / 2;       /* numpy: the mean of the two middle values */
        }
    }
    for (size_t i = 0; i < n; i++) scratch[i] = dev ? fabs(x[i] - m) : x[i];
    return liq_median(scratch, n);
}

/* SpreadWidening's refresh: expire values older than ts - lookback, then the median and robust
 * scale of what is left (rules.py: st[1], st[2], st[4]). */
static void spread_refresh(spread_state *w, const liq_alert_spread_params *p, int64_t ts)
{
    /* ts_i < ts - lookback, i.e. not (ts_i - ts >= -lookback), without overflow */
    while (w->start < w->len && !diff_ge(w->ts[w->start], ts, -p->lookback_ns)) w->start++;
    const size_t n = w->len - w->start;
    w->count = (int64_t)n;
    if (n) {
        const double *xs = w->x + w->start;
        double *v = w->scratch;
        const double band = 0.1 * w->mad;
        const double med = median_hint(xs, n, 0, 0.0, w->med - band, w->med + band, v);
        const double mad = median_hint(xs, n, 1, med, w->mad - band, w->mad + band, v);
        double scale;
        if (mad > 0) {
            scale = mad / LIQ_ALERTS_IGLEWICZ_HOAGLIN;
        } else {
            /* dev.mean(): numpy's pairwise sum depends on the order, so dev in window order;
             * rare (most values equal the median) */
            for (size_t i = 0; i < n; i++) v[i] = fabs(xs[i] - med);
            scale = pairwise_sum(v, n) / (double)n * LIQ_ALERTS_MEAN_AD_TO_SIGMA;
        }
        w->med = med;
        w->mad = mad;
        w->scale = scale > 0 ? scale : LIQ_ALERTS_SCALE_FLOOR;
    }
    w->refreshed = 1;
    w->refreshed_ns = ts;
}

/* ------------------------------------------------------------------ the four checks */

/* Each returns 1 with *c filled, or 0 while the rule does not judge (rules.py: None). */

static int spread_check(rule_state *r, int64_t ts, double s, check *c)
{
    const liq_alert_spread_params *p = &r->p.spread;
    spread_state *w = &r->s.spread;
    if (!(0.0 < s && s < INFINITY)) return 0;   /* a locked, crossed or one-sided book */
    const double x = log(s);
    if (!w->refreshed || diff_ge(ts, w->refreshed_ns, p->refresh_ns)) spread_refresh(w, p, ts);
    if (diff_ge(ts, w->last, p->sample_ns)) {
        /* room was reserved by liq_alerts_observe before any state changed */
        w->ts[w->len] = ts;
        w->x[w->len] = x;
        w->len++;
        w->last = ts;
    }
    if (!spread_warm(p, w)) return 0;
    const double z = (x - w->med) / w->scale;
    const double base = exp(w->med);
    const double ratio = s / base;
    c->breach = z > p->z && ratio > p->ratio;
    c->clear = z < p->clear_z || ratio < p->clear_ratio;
    c->current = s;
    c->baseline = base;
    c->z = z;
    c->has_z = 1;
    c->measure = ratio;
    return 1;
}

static int depth_check(rule_state *r, int64_t ts, double bid_depth, double ask_depth, check *c)
{
    const liq_alert_depth_params *p = &r->p.depth;
    depth_state *st = &r->s.depth;
    const int ready = depth_warm(p, st);
    if (ready) {
        const double bid_drop = 100.0 * (1.0 - bid_depth / st->bid.mean);
        const double ask_drop = 100.0 * (1.0 - ask_depth / st->ask.mean);
        c->clear = bid_drop < p->clear_pct && ask_drop < p->clear_pct;
        c->has_z = 0;
        c->z = NAN;
        if (bid_drop >= ask_drop) {
            c->breach = bid_drop >= p->drop_pct;
            c->current = bid_depth;
            c->baseline = st->bid.mean;
            c->measure = bid_drop;
            st->side = 0;
        } else {
            c->breach = ask_drop >= p->drop_pct;
            c->current = ask_depth;
            c->baseline = st->ask.mean;
            c->measure = ask_drop;
            st->side = 1;
        }
    }
    if (0.0 <= bid_depth && bid_depth < INFINITY) ewma_update(&st->bid, ts, bid_depth);
    if (0.0 <= ask_depth && ask_depth < INFINITY) ewma_update(&st->ask, ts, ask_depth);
    return ready;
}

static int imbalance_check(rule_state *r, int64_t ts, double bid_depth, double ask_depth, double i, check *c)
{
    const liq_alert_imbalance_params *p = &r->p.imbalance;
    imbalance_state *st = &r->s.imbalance;
    if (!(bid_depth > 0.0 && ask_depth > 0.0 && -1.0 <= i && i <= 1.0)) {
        st->held = 0;   /* one-sided: a depth event, not an imbalance */
        return 0;
    }
    ewma *ew = &st->ew;
    const int has_z = ew->var > 0.0;
    const double z = has_z ? (i - ew->mean) / sqrt(ew->var) : NAN;
    ewma_update(ew, ts, i);
    const double a = fabs(i);
    if (a > p->level) {
        const int sign = i > 0 ? 1 : -1;
        if (!st->held || st->sign != sign) {
            st->held = 1;
            st->held_since_ns = ts;
            st->sign = sign;
        }
    } else {
        st->held = 0;
    }
    const int held = st->held && diff_ge(ts, st->held_since_ns, p->hold_ns);
    const int by_z = p->has_z && has_z && fabs(z) > p->z;
    c->breach = held || by_z;
    c->clear = a < p->clear_level;
    c->current = i;
    c->baseline = ew->mean;
    c->z = z;
    c->has_z = has_z;
    c->measure = a;
    return 1;
}

static int price_check(rule_state *r, int64_t ts, double mid, double spread_bps, double bid_depth,
                       double ask_depth, double ref, int has_ref, check *c)
{
    const liq_alert_price_params *p = &r->p.price;
    price_state *st = &r->s.price;
    if (!(bid_depth > 0.0 && ask_depth > 0.0 && 0.0 < mid && mid < INFINITY)) {
        /* no mid (a one-sided spell): the next return starts afresh, not across the gap */
        st->mid = NAN;
        st->z = 0.0;
        return 0;
    }
    ewma *ew = &st->ew;
    if (isnan(st->mid)) {
        st->mid = mid;
        st->ts = ts;
    } else if (diff_ge(ts, st->ts, p->interval_ns)) {
        /* per interval: a return over a longer gap is scaled by sqrt(gap / interval). Python
         * divides the two ints rounding once: equal while the gap is below 2^53 ns */
        const double r_ = log(mid / st->mid) / sqrt(gap_pos(ts, st->ts) / (double)p->interval_ns);
        const double sigma = ew->mean > 0 ? sqrt(ew->mean) : 0.0;
        st->z = price_warm(p, st) && sigma > 0 ? r_ / sigma : 0.0;
        ewma_update(ew, ts, r_ * r_);
        st->returns++;
        st->prev_mid = st->mid;
        st->mid = mid;
        st->ts = ts;
    }
    const double z = st->z;
    double dev = 0.0, thr = p->venue_spreads;
    if (has_ref && spread_bps > 0) {
        dev = fabs(mid - ref) / (spread_bps * 1e-4 * mid);
        const double floor_ = p->venue_bps / spread_bps;   /* the bps floor, in spreads */
        if (floor_ > thr) thr = floor_;
    }
    st->dev = dev;
    st->thr = thr;
    if (!price_warm(p, st) && !has_ref) return 0;
    /* Python's max(a, b): b only when b > a (so a NaN b leaves a) */
    const double a = fabs(z) / p->z, b = dev / thr;
    const double worst = b > a ? b : a;
    const int by_venue = dev > thr;
    c->breach = fabs(z) > p->z || by_venue;
    c->clear = worst < 0.5;
    c->current = mid;
    c->baseline = by_venue && has_ref ? ref : st->prev_mid;
    c->z = z;
    c->has_z = 1;
    c->measure = worst;
    return 1;
}

/* ------------------------------------------------------------------ observe */

/* The baseline values reported with a start (alerts.h, liq_alert_event). */
static void describe(const rule_state *r, liq_alert_event *e)
{
    e->values[0] = e->values[1] = NAN;
    e->ivalue = 0;
    switch (r->p.kind) {
    case LIQ_ALERT_SPREAD_WIDENING:
        e->values[0] = r->s.spread.scale;
        e->ivalue = r->s.spread.count;
        break;
    case LIQ_ALERT_DEPTH_DROP:
        e->values[0] = r->s.depth.bid.mean;
        e->values[1] = r->s.depth.ask.mean;
        e->ivalue = r->s.depth.side;
        break;
    case LIQ_ALERT_IMBALANCE:
        e->values[0] = r->s.imbalance.ew.mean;
        e->values[1] = sqrt(r->s.imbalance.ew.var);
        if (r->s.imbalance.held) {
            e->flags |= LIQ_ALERT_HAS_HELD;
            e->ivalue = r->s.imbalance.held_since_ns;
        }
        break;
    case LIQ_ALERT_PRICE_ANOMALY:
        if (r->s.price.ew.mean > 0) {
            e->values[0] = sqrt(r->s.price.ew.mean);
            e->flags |= LIQ_ALERT_HAS_SIGMA;
        }
        e->values[1] = r->s.price.dev;
        if (r->s.price.dev > r->s.price.thr) e->flags |= LIQ_ALERT_BY_VENUE;
        break;
    }
}

/* AlertEngine.observe's debounce for one rule's check; 1 when an event was written. */
static int debounce(rule_state *r, size_t k, const check *c, liq_alert_event *e)
{
    debounce_state *d = &r->d;
    if (!d->active) {
        const uint64_t oldest = (uint64_t)1 << (r->p.window - 1);
        if (d->n_recent == r->p.window) {
            if (d->recent & oldest) d->breaches--;
        } else {
            d->n_recent++;
        }
        /* the deque of the last `window` breaches, as bits (bit 0 the newest) */
        d->recent = ((d->recent << 1) | (uint64_t)(c->breach != 0)) & (oldest | (oldest - 1));
        if (c->breach) {
            d->breaches++;
            if (d->breaches >= r->p.fire) {
                d->active = 1;
                d->clears = 0;
                memset(e, 0, sizeof *e);
                e->rule = (int32_t)k;
                e->kind = LIQ_ALERT_START;
                e->flags = c->has_z ? LIQ_ALERT_HAS_Z : 0;
                e->current = c->current;
                e->baseline = c->baseline;
                e->z = c->has_z ? c->z : NAN;
                e->measure = c->measure;
                describe(r, e);
                return 1;
            }
        }
        return 0;
    }
    d->clears = c->clear && !c->breach ? d->clears + 1 : 0;
    if (d->clears >= r->p.clear) {
        memset(e, 0, sizeof *e);
        e->rule = (int32_t)k;
        e->kind = LIQ_ALERT_END;
        e->current = e->baseline = e->z = e->measure = NAN;
        e->values[0] = e->values[1] = NAN;
        d->active = 0;
        d->recent = 0;
        d->n_recent = 0;
        d->breaches = 0;
        return 1;
    }
    return 0;
}

liq_status liq_alerts_observe(liq_alerts *a, int64_t ts_ns, double mid, double spread_bps, double bid_depth,
                              double ask_depth, double imbalance, double reference_price,
                              liq_alert_event *out_events, size_t *n_events)
{
    if (n_events) *n_events = 0;
    if (!a || !out_events || !n_events) return LIQ_ERR_ARG;
    const int has_ref = !isnan(reference_price);
    if (has_ref && !finite_pos(reference_price)) return LIQ_ERR_ARG;
    /* all or nothing: the only fallible step (window growth) comes before any change */
    for (size_t k = 0; k < a->n; k++) {
        if (a->rules[k].p.kind == LIQ_ALERT_SPREAD_WIDENING) {
            liq_status st = window_reserve(&a->rules[k].s.spread);
            if (st != LIQ_OK) return st;
        }
    }
    size_t n = 0;
    for (size_t k = 0; k < a->n; k++) {
        rule_state *r = &a->rules[k];
        check c;
        int judged = 0;
        switch (r->p.kind) {
        case LIQ_ALERT_SPREAD_WIDENING:
            judged = spread_check(r, ts_ns, spread_bps, &c);
            break;
        case LIQ_ALERT_DEPTH_DROP:
            judged = depth_check(r, ts_ns, bid_depth, ask_depth, &c);
            break;
        case LIQ_ALERT_IMBALANCE:
            judged = imbalance_check(r, ts_ns, bid_depth, ask_depth, imbalance, &c);
            break;
        case LIQ_ALERT_PRICE_ANOMALY:
            judged = price_check(r, ts_ns, mid, spread_bps, bid_depth, ask_depth, reference_price, has_ref, &c);
            break;
        }
        if (judged && debounce(r, k, &c, &out_events[n])) n++;
    }
    *n_events = n;
    return LIQ_OK;
}
