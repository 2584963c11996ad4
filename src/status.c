#include "status.h"

const char *liq_status_str(liq_status st)
{
    switch (st) {
    case LIQ_OK: return "ok";
    case LIQ_STALE: return "stale message ignored";
    case LIQ_ERR_NAN: return "value is NaN";
    case LIQ_ERR_INF: return "value is infinite";
    case LIQ_ERR_NEGATIVE: return "negative size or non-positive price";
    case LIQ_ERR_PARSE: return "not a decimal number";
    case LIQ_ERR_PRECISION: return "non-zero digits beyond the book's scale";
    case LIQ_ERR_OFF_GRID: return "price not on the tick grid or size not on the lot grid";
    case LIQ_ERR_OVERFLOW: return "value out of range for int64 fixed point";
    case LIQ_ERR_SIDE: return "side must be 0 (bid) or 1 (ask)";
    case LIQ_ERR_LENGTH: return "message arrays have different lengths";
    case LIQ_ERR_ARG: return "invalid argument";
    case LIQ_ERR_FORMAT: return "malformed input bytes";
    case LIQ_ERR_SEQ_GAP: return "sequence gap";
    case LIQ_ERR_CROSSED: return "book would be crossed";
    case LIQ_ERR_CHECKSUM: return "checksum mismatch";
    case LIQ_ERR_EMPTY: return "book side is empty";
    case LIQ_ERR_DEPTH: return "book keeps fewer levels than the operation needs";
    case LIQ_ERR_BUSY: return "book in use by a call of this same thread";
    case LIQ_ERR_NOMEM: return "out of memory";
    }
    return "unknown status";
}
