#include "flow.h"

#include <stdlib.h>
#include <string.h>

/* The top `levels` of both sides into px/qty, missing levels as -inf/+inf with size 0. */
static void top_state(const liq_book *b, int levels, int64_t px[2][LIQ_OFI_MAX_LEVELS],
                      int64_t qty[2][LIQ_OFI_MAX_LEVELS])
{
    for (int sd = 0; sd < 2; sd++) {
        const liq_side *s = &b->side[sd];
        size_t c = liq_side_best(s);
        for (int m = 0; m < levels; m++) {
            if (c) {
                px[sd][m] = sd == LIQ_BID ? s->key[c - 1] : -s->key[c - 1];
                qty[sd][m] = s->qty[c - 1];
                c = liq_side_next(s, c);
            } else {
                px[sd][m] = sd == LIQ_BID ? INT64_MIN : INT64_MAX;
                qty[sd][m] = 0;
            }
        }
    }
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

void liq_ofi_observe(liq_ofi *o, const liq_book *b, int reset)
{
    int64_t px[2][LIQ_OFI_MAX_LEVELS], qty[2][LIQ_OFI_MAX_LEVELS];
    top_state(b, o->levels, px, qty);
    if (!reset) {
        for (int m = 0; m < o->levels; m++) {
            const int64_t pb = px[0][m], pb0 = o->px[0][m], pa = px[1][m], pa0 = o->px[1][m];
            /* each term is a size (< 2^63); the sum of four may not be: saturate */
            int64_t e = 0;
            if (pb >= pb0) e = sat_add(e, qty[0][m]);
            if (pb <= pb0) e = sat_add(e, -o->qty[0][m]);
            if (pa <= pa0) e = sat_add(e, -qty[1][m]);
            if (pa >= pa0) e = sat_add(e, o->qty[1][m]);
            o->acc[m] = sat_add(o->acc[m], e);
        }
        o->events++;
    }
    memcpy(o->px, px, sizeof px);
    memcpy(o->qty, qty, sizeof qty);
}

liq_status liq_book_ofi_enable(liq_book *b, int levels)
{
    if (levels < 0 || levels > LIQ_OFI_MAX_LEVELS) return LIQ_ERR_ARG;
    if (levels == 0) {
        free(b->ofi);
        b->ofi = NULL;
        return LIQ_OK;
    }
    liq_ofi *o = b->ofi ? b->ofi : calloc(1, sizeof *o);
    if (!o) return LIQ_ERR_NOMEM;
    memset(o, 0, sizeof *o);
    o->levels = levels;
    liq_ofi_observe(o, b, 1);
    b->ofi = o;
    return LIQ_OK;
}

int liq_book_ofi_read(liq_book *b, int64_t *out, uint64_t *events, int take)
{
    liq_ofi *o = b->ofi;
    if (!o) {
        if (events) *events = 0;
        return 0;
    }
    memcpy(out, o->acc, (size_t)o->levels * sizeof *out);
    if (events) *events = o->events;
    if (take) {
        memset(o->acc, 0, sizeof o->acc);
        o->events = 0;
    }
    return o->levels;
}
