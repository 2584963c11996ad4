# The C symbols of src/ that the bindings use (one place; see src/*.h for the contracts).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t

cdef extern from "status.h" nogil:
    ctypedef enum liq_status:
        LIQ_OK
        LIQ_STALE
        LIQ_ERR_NAN
        LIQ_ERR_INF
        LIQ_ERR_NEGATIVE
        LIQ_ERR_PARSE
        LIQ_ERR_PRECISION
        LIQ_ERR_OFF_GRID
        LIQ_ERR_OVERFLOW
        LIQ_ERR_SIDE
        LIQ_ERR_LENGTH
        LIQ_ERR_ARG
        LIQ_ERR_FORMAT
        LIQ_ERR_SEQ_GAP
        LIQ_ERR_CROSSED
        LIQ_ERR_CHECKSUM
        LIQ_ERR_EMPTY
        LIQ_ERR_DEPTH
        LIQ_ERR_BUSY
        LIQ_ERR_NOMEM
    const char *liq_status_str(liq_status st)

cdef extern from "fixed.h" nogil:
    enum:
        LIQ_MAX_SCALE
        LIQ_DEC_NONE
        LIQ_DECIMAL_BUF
    const int64_t liq_pow10[]
    liq_status liq_decimal_parse(const char *s, size_t n, int scale, int64_t *out, uint8_t *wire_dec)
    liq_status liq_fixed_from_double(double x, int scale, int64_t *out)
    liq_status liq_fixed_from_i64(int64_t v, int scale, int64_t *out)
    size_t liq_decimal_format(int64_t v, int scale, int dec, char *buf)
    double liq_fixed_to_double(int64_t v, int scale)

cdef extern from "book.h" nogil:
    enum:
        LIQ_BID
        LIQ_ASK
    ctypedef enum liq_cross_policy:
        LIQ_CROSS_RAISE
        LIQ_CROSS_REPAIR
        LIQ_CROSS_ALLOW
    ctypedef enum liq_seq_rule:
        LIQ_SEQ_NONE
        LIQ_SEQ_BINANCE_SPOT
        LIQ_SEQ_BINANCE_FUTURES
        LIQ_SEQ_OKX
        LIQ_SEQ_CONTIGUOUS
        LIQ_SEQ_PREV
        LIQ_SEQ_INCREASING
    int64_t LIQ_ID_NONE

    ctypedef struct liq_side:
        const int64_t *key
        const int64_t *qty
        const uint16_t *dec
        size_t len
        size_t live
        size_t cap

    ctypedef struct liq_book_stats:
        uint64_t messages
        uint64_t levels
        uint64_t snapshots
        uint64_t rejected
        uint64_t stale
        uint64_t gaps
        uint64_t crossed
        uint64_t repaired_levels
        uint64_t truncated_levels

    ctypedef struct liq_delta:
        int64_t px
        int64_t qty
        uint8_t side
        uint8_t px_dec
        uint8_t qty_dec

    ctypedef struct liq_seq_ids:
        int64_t first
        int64_t last
        int64_t prev

    ctypedef struct liq_book:
        liq_side side[2]
        int px_scale
        int qty_scale
        int64_t tick
        int64_t lot
        size_t max_depth
        liq_cross_policy cross_policy
        liq_seq_rule seq_rule
        int64_t last_id
        int after_snapshot
        uint64_t generation
        liq_book_stats stats

    liq_status liq_book_init(liq_book *b, int px_scale, int qty_scale, int64_t tick, int64_t lot, size_t max_depth)
    void liq_book_free(liq_book *b)
    void liq_book_clear(liq_book *b)
    liq_status liq_book_copy(liq_book *dst, const liq_book *src)
    liq_status liq_book_reserve(liq_book *b, int side, size_t n)
    liq_status liq_delta_from_f64(const liq_book *b, int side, double px, double qty, liq_delta *d)
    liq_status liq_delta_check(const liq_book *b, const liq_delta *d)
    liq_status liq_book_set(liq_book *b, const liq_delta *d)
    liq_status liq_book_set_f64(liq_book *b, int side, double px, double qty)
    liq_status liq_book_apply(liq_book *b, const liq_delta *d, size_t n, size_t *bad)
    liq_delta *liq_book_scratch(liq_book *b, size_t n)
    void liq_book_trim(liq_book *b)
    void liq_book_reject(liq_book *b)
    liq_status liq_book_apply_f64(liq_book *b, const uint8_t *sides, const double *px, const double *qty, size_t n, size_t *bad)
    liq_status liq_book_snapshot(liq_book *b, const liq_delta *d, size_t n, int64_t id, size_t *bad)
    liq_status liq_book_apply_seq(liq_book *b, const liq_delta *d, size_t n, liq_seq_ids ids, size_t *bad)
    liq_status liq_book_check_seq(const liq_book *b, liq_seq_ids ids)
    size_t liq_book_levels_f64(const liq_book *b, int side, size_t n, double *out)
    size_t liq_book_levels_i64(const liq_book *b, int side, size_t n, int64_t *out)
    size_t liq_book_serialized_size(const liq_book *b)
    size_t liq_book_serialize(const liq_book *b, uint8_t *buf)
    liq_status liq_book_deserialize(liq_book *b, const uint8_t *buf, size_t len)
    enum: LIQ_LABEL_MAX
    ctypedef struct liq_labels:
        const char *symbol
        size_t symbol_len
        const char *exchange
        size_t exchange_len
    size_t liq_book_serialized_size_labeled(const liq_book *b, const liq_labels *lab)
    size_t liq_book_serialize_labeled(const liq_book *b, const liq_labels *lab, uint8_t *buf)
    liq_status liq_book_deserialize_labeled(liq_book *b, const uint8_t *buf, size_t len, liq_labels *lab)
    size_t liq_book_count(const liq_book *b, int side)
    size_t liq_side_best(const liq_side *s)
    size_t liq_side_next(const liq_side *s, size_t c)
    int liq_book_best(const liq_book *b, int side, int64_t *px, int64_t *qty)
    int liq_book_is_crossed(const liq_book *b)

from libc.stdint cimport uint32_t, int32_t

cdef extern from "checksum.h" nogil:
    enum:
        LIQ_CHECKSUM_OKX
        LIQ_CHECKSUM_BITGET
        LIQ_CHECKSUM_KRAKEN
        LIQ_CHECKSUM_BITFINEX
    uint32_t liq_crc32(uint32_t crc, const void *p, size_t n)
    liq_status liq_book_checksum(const liq_book *b, int kind, uint32_t *out)
    size_t liq_format_js(int64_t v, int scale, char *buf)

cdef extern from "analytics.h" nogil:
    ctypedef enum liq_walk_dir:
        LIQ_WALK_SELL
        LIQ_WALK_BUY
    ctypedef enum liq_ref:
        LIQ_REF_MID
        LIQ_REF_TOUCH
    ctypedef enum liq_weighting:
        LIQ_WEIGHT_PLAIN
        LIQ_WEIGHT_LINEAR
        LIQ_WEIGHT_INVERSE
        LIQ_WEIGHT_EXP

    ctypedef struct liq_walk_result:
        double vwap
        double worst_px
        double filled
        double notional
        double slippage_bps
        double slippage_mid_bps
        double unfilled
        size_t levels
        int complete

    ctypedef struct liq_depth:
        double bid_base
        double bid_quote
        double ask_base
        double ask_quote

    liq_status liq_book_walk_qty(const liq_book *b, int dir, int64_t qty, liq_walk_result *out)
    liq_status liq_book_walk_notional(const liq_book *b, int dir, double notional, liq_walk_result *out)
    liq_status liq_book_depth(const liq_book *b, double band_bps, int ref, liq_depth *out)
    liq_status liq_book_cost_to_move(const liq_book *b, double move_bps, int ref, double *base, double *quote)
    liq_status liq_book_imbalance(const liq_book *b, size_t levels, int weighting, double half_width_bps,
                                  int notional, double *out)
    double liq_book_weighted_mid(const liq_book *b)
    double liq_book_top_size(const liq_book *b, int side, size_t levels)
    liq_status liq_book_depth_profile(const liq_book *b, const double *bps, size_t n, int ref, liq_depth *out)

cdef extern from "frames.h" nogil:
    enum:
        LIQ_FRAME_MAX_DEPTH
        LIQ_FRAME_SCAN
        LIQ_FRAME_HAS_FIRST
        LIQ_FRAME_HAS_LAST
        LIQ_FRAME_HAS_PREV
        LIQ_FRAME_HAS_EVENT
        LIQ_FRAME_HAS_TXN
        LIQ_FRAME_IDS
    ctypedef enum liq_frame_kind:
        LIQ_FRAME_OTHER
        LIQ_FRAME_DEPTH
        LIQ_FRAME_SNAPSHOT
        LIQ_FRAME_UPDATE
    ctypedef enum liq_frame_check:
        LIQ_CHECK_NONE
        LIQ_CHECK_OK
        LIQ_CHECK_ABSENT
        LIQ_CHECK_MISMATCH
    ctypedef struct liq_frame_result:
        int kind
        unsigned present
        int64_t first_id
        int64_t last_id
        int64_t prev_id
        int64_t event_ms
        int64_t txn_ms
        size_t sym_off
        size_t sym_len
        size_t stream_off
        size_t stream_len
        size_t bids
        size_t asks
        int has_checksum
        int32_t checksum
        uint32_t computed
        int check
        int max_px_dec
        int max_qty_dec
        size_t error_at
    liq_status liq_frame_binance_depth(liq_book *b, const char *buf, size_t n, unsigned flags, liq_frame_result *r)
    liq_status liq_frame_binance_snapshot(liq_book *b, const char *buf, size_t n, unsigned flags, liq_frame_result *r)
    liq_status liq_frame_okx_books(liq_book *b, const char *buf, size_t n, unsigned flags, liq_frame_result *r)


cdef extern from "flow.h" nogil:
    enum:
        LIQ_OFI_MAX_LEVELS
    liq_status liq_book_ofi_enable(liq_book *b, int levels)
    int liq_book_ofi_read(liq_book *b, int64_t *out, uint64_t *events, int take)


cdef extern from "liquidity.h" nogil:
    enum:
        LIQ_WALL_WINDOW_MAX
    ctypedef struct liq_shape_params:
        double band_bps
        size_t window
        double ratio
        double z_min
        double cluster_ratio
        int64_t gap_ticks
        double gap_bps
        double quote_bands_bps[2]
    ctypedef struct liq_wall:
        int side
        double price, size, notional, strength, z, confidence, distance_bps
        size_t rank
    ctypedef struct liq_cluster:
        int side
        double price_best, price_worst, size, notional, vwap, span_bps, share
        size_t levels
    ctypedef struct liq_baseline:
        double median, mad, band_size
        double band_quote[2]
        size_t n
    liq_shape_params liq_shape_defaults()
    liq_status liq_book_walls(const liq_book *b, const liq_shape_params *p, int side, liq_wall *out, size_t cap,
                              size_t *found, liq_baseline *baseline)
    liq_status liq_book_clusters(const liq_book *b, const liq_shape_params *p, int side, liq_cluster *out,
                                 size_t cap, size_t *found)
    liq_status liq_book_shape(const liq_book *b, const liq_shape_params *p, int side, liq_wall *walls, size_t wcap,
                              size_t *nwalls, liq_cluster *clusters, size_t ccap, size_t *nclusters,
                              liq_baseline *baseline)
    double liq_liquidity_score(double spread_bps, double depth_1pct_quote, double slippage_bps, double half_life_s,
                               double depth_half)
    enum:
        LIQ_REPORT_ITEMS
    ctypedef struct liq_report_params:
        size_t levels
        double notional, half_life_s, depth_half, band_bps
    ctypedef struct liq_report:
        double best_bid, best_bid_size, best_ask, best_ask_size, mid, spread, spread_bps, spread_pct
        double bid_volume, ask_volume, total_volume
        double bid_liquidity_1pct, ask_liquidity_1pct, liquidity_1pct
        double bid_liquidity_2pct, ask_liquidity_2pct, liquidity_2pct
        double imbalance_ratio, imbalance, weighted_imbalance, slippage_bps, score
        size_t levels, nwalls, nclusters
        liq_wall walls[16]
        liq_cluster clusters[16]
    liq_status liq_book_report(const liq_book *b, const liq_report_params *p, liq_report *out)


cdef extern from "alerts.h" nogil:
    ctypedef enum liq_alert_kind:
        LIQ_ALERT_SPREAD_WIDENING
        LIQ_ALERT_DEPTH_DROP
        LIQ_ALERT_IMBALANCE
        LIQ_ALERT_PRICE_ANOMALY
    ctypedef enum liq_alert_event_kind:
        LIQ_ALERT_START
        LIQ_ALERT_END
    enum:
        LIQ_ALERT_HAS_Z
        LIQ_ALERT_HAS_HELD
        LIQ_ALERT_HAS_SIGMA
        LIQ_ALERT_BY_VENUE
        LIQ_ALERTS_MAX_WINDOW
    double LIQ_ALERTS_IGLEWICZ_HOAGLIN
    double LIQ_ALERTS_MEAN_AD_TO_SIGMA
    double LIQ_ALERTS_SCALE_FLOOR
    ctypedef struct liq_alert_spread_params:
        double z, ratio, clear_z, clear_ratio
        int64_t lookback_ns, sample_ns, refresh_ns, min_count
    ctypedef struct liq_alert_depth_params:
        double drop_pct, clear_pct, half_life_s, warmup_s
    ctypedef struct liq_alert_imbalance_params:
        double level, clear_level
        int64_t hold_ns
        int has_z
        double z, half_life_s
    ctypedef struct liq_alert_price_params:
        double z, venue_spreads, venue_bps
        int64_t interval_ns
        double half_life_s
        int64_t warmup
    ctypedef struct liq_alert_rule:
        liq_alert_kind kind
        int64_t fire, window, clear
        liq_alert_spread_params spread
        liq_alert_depth_params depth
        liq_alert_imbalance_params imbalance
        liq_alert_price_params price
    ctypedef struct liq_alert_event:
        int32_t rule, kind, flags
        double current, baseline, z, measure
        double values[2]
        int64_t ivalue
    ctypedef struct liq_alerts:
        pass
    liq_status liq_alerts_rule_check(const liq_alert_rule *rule)
    liq_status liq_alerts_create(const liq_alert_rule *rules, size_t n, liq_alerts **out)
    void liq_alerts_destroy(liq_alerts *a)
    size_t liq_alerts_rules(const liq_alerts *a)
    size_t liq_alerts_bytes(const liq_alerts *a)
    size_t liq_alerts_window_len(const liq_alerts *a, size_t rule)
    liq_status liq_alerts_observe(liq_alerts *a, int64_t ts_ns, double mid, double spread_bps, double bid_depth,
                                  double ask_depth, double imbalance, double reference_price,
                                  liq_alert_event *out_events, size_t *n_events)
    int liq_alerts_active(const liq_alerts *a, size_t rule)
    int liq_alerts_warm(const liq_alerts *a, size_t rule)
