/*
 * checksum.c — exchange order-book checksums (see checksum.h for the contracts and
 * research/exchange_protocols.md §3 for the algorithms and worked examples).
 */
#include "checksum.h"

#include <stdio.h>    /* snprintf: digit generation of doubles, no I/O */
#include <stdlib.h>   /* strtod */

/* zlib / ISO-HDLC CRC-32 table (reflected polynomial 0xEDB88320), generated once
 * offline; const so the core keeps no mutable globals. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t liq_crc32(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    /* zlib's pre/post conditioning inside each call lets callers chain pieces */
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ s[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ---- JavaScript Number#toString ---------------------------------------- */

/* Shortest significant digits that round-trip the double nearest to the decimal
 * dig[0..*k) x 10^(*n - *k) (ECMAScript: smallest digit count, the correctly rounded
 * candidate). Only used beyond 15 significant digits, where the value itself may not be
 * the shortest. Strings passed to strtod carry no radix character and the one snprintf
 * writes is skipped, so LC_NUMERIC does not matter. */
static void js_shortest(char *dig, int *k, int *n)
{
    char s[64], t[64];
    int len = 0;
    for (int i = 0; i < *k; i++) s[len++] = dig[i];
    snprintf(s + len, sizeof s - (size_t)len, "e%d", *n - *k);
    double x = strtod(s, NULL);
    for (int p = 1; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, x);
        /* t = d[radix ddd]e[+-]xx: collect the p digits, then the exponent */
        char c[24];
        int nc = 0, i = 0;
        while (t[i] && t[i] != 'e') {
            if (t[i] >= '0' && t[i] <= '9') c[nc++] = t[i];
            i++;
        }
        int e10 = (int)strtol(t + i + 1, NULL, 10);
        len = 0;
        for (int j = 0; j < nc; j++) s[len++] = c[j];
        snprintf(s + len, sizeof s - (size_t)len, "e%d", e10 - nc + 1);
        if (strtod(s, NULL) == x) {
            while (nc > 1 && c[nc - 1] == '0') nc--;
            for (int j = 0; j < nc; j++) dig[j] = c[j];
            *k = nc;
            *n = e10 + 1;
            return;
        }
    }
}

size_t liq_format_js(int64_t v, int scale, char *buf)
{
    size_t len = 0;
    if (v == 0) {
        buf[0] = '0';
        buf[1] = '\0';
        return 1;
    }
    if (v < 0) buf[len++] = '-';
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char tmp[24], dig[24] = {0};   /* zeroed: gcc -O2 + sanitizers cannot see k >= 1 below */
    int nd = 0;
    do { tmp[nd++] = (char)('0' + u % 10); u /= 10; } while (u);   /* least significant first */
    int tz = 0;
    while (tmp[tz] == '0') tz++;
    /* value = 0.dig[0..k) x 10^n, the notation of ECMAScript's Number::toString */
    int k = nd - tz, n = nd - scale;
    for (int i = 0; i < k; i++) dig[i] = tmp[nd - 1 - i];
    if (k > 15) js_shortest(dig, &k, &n);
    if (k <= n && n <= 21) {                 /* integer: digits then zeros */
        for (int i = 0; i < k; i++) buf[len++] = dig[i];
        for (int i = k; i < n; i++) buf[len++] = '0';
    } else if (0 < n && n <= 21) {           /* point inside the digits */
        for (int i = 0; i < n; i++) buf[len++] = dig[i];
        buf[len++] = '.';
        for (int i = n; i < k; i++) buf[len++] = dig[i];
    } else if (-6 < n && n <= 0) {           /* 0.000ddd, down to 1e-6 */
        buf[len++] = '0';
        buf[len++] = '.';
        for (int i = n; i < 0; i++) buf[len++] = '0';
        for (int i = 0; i < k; i++) buf[len++] = dig[i];
    } else {                                 /* d[.ddd]e(+|-)x */
        buf[len++] = dig[0];
        if (k > 1) {
            buf[len++] = '.';
            for (int i = 1; i < k; i++) buf[len++] = dig[i];
        }
        int e = n - 1;
        buf[len++] = 'e';
        buf[len++] = e < 0 ? '-' : '+';
        if (e < 0) e = -e;
        char ex[8];
        int ne = 0;
        do { ex[ne++] = (char)('0' + e % 10); e /= 10; } while (e);
        while (ne) buf[len++] = ex[--ne];
    }
    buf[len] = '\0';
    return len;
}

/* ---- per-exchange renderings -------------------------------------------- */

/* Feed one number to the CRC, preceded by ':' unless it is the first. */
static uint32_t feed_item(uint32_t crc, int *first, const char *s, size_t n)
{
    if (!*first) crc = liq_crc32(crc, ":", 1);
    *first = 0;
    return liq_crc32(crc, s, n);
}

/* Price of the level at array index j of a side. */
static int64_t px_of(const liq_book *b, int side, size_t j)
{
    return side == LIQ_BID ? b->side[side].key[j] : -b->side[side].key[j];
}

/* OKX/Bitget: the level's wire strings (level at array index j). */
static uint32_t okx_level(uint32_t crc, int *first, const liq_book *b, int side, size_t j)
{
    char buf[LIQ_DECIMAL_BUF];
    uint16_t dec = b->side[side].dec[j];
    size_t n = liq_decimal_format(px_of(b, side, j), b->px_scale, dec >> 8, buf);
    crc = feed_item(crc, first, buf, n);
    n = liq_decimal_format(b->side[side].qty[j], b->qty_scale, dec & 0xff, buf);
    return feed_item(crc, first, buf, n);
}

/* Kraken: the number with its wire decimals (the book's scale when it came from a
 * float/int: WS v2 sends JSON numbers at the instrument's precision), '.' removed and
 * leading zeros stripped. Values are > 0 here, so something always remains. */
static uint32_t kraken_number(uint32_t crc, int64_t v, int scale, int dec)
{
    char buf[LIQ_DECIMAL_BUF], out[LIQ_DECIMAL_BUF];
    size_t n = liq_decimal_format(v, scale, dec == LIQ_DEC_NONE ? scale : dec, buf), m = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '.' || (buf[i] == '0' && m == 0)) continue;
        out[m++] = buf[i];
    }
    return liq_crc32(crc, out, m);
}

static uint32_t kraken_level(uint32_t crc, const liq_book *b, int side, size_t j)
{
    uint16_t dec = b->side[side].dec[j];
    crc = kraken_number(crc, px_of(b, side, j), b->px_scale, dec >> 8);
    return kraken_number(crc, b->side[side].qty[j], b->qty_scale, dec & 0xff);
}

/* Bitfinex: JavaScript numbers, the ask amount negative (Bitfinex signs amounts by side). */
static uint32_t bitfinex_level(uint32_t crc, int *first, const liq_book *b, int side, size_t j)
{
    char buf[LIQ_DECIMAL_BUF];
    size_t n = liq_format_js(px_of(b, side, j), b->px_scale, buf);
    crc = feed_item(crc, first, buf, n);
    int64_t q = b->side[side].qty[j];
    n = liq_format_js(side == LIQ_ASK ? -q : q, b->qty_scale, buf);
    return feed_item(crc, first, buf, n);
}

liq_status liq_book_checksum(const liq_book *b, int kind, uint32_t *out)
{
    if (b == NULL || out == NULL) return LIQ_ERR_ARG;
    size_t need;
    switch (kind) {
    case LIQ_CHECKSUM_OKX: need = LIQ_CHECKSUM_OKX_LEVELS; break;
    case LIQ_CHECKSUM_KRAKEN: need = LIQ_CHECKSUM_KRAKEN_LEVELS; break;
    case LIQ_CHECKSUM_BITFINEX: need = LIQ_CHECKSUM_BITFINEX_LEVELS; break;
    default: return LIQ_ERR_ARG;
    }
    /* A shallower book may have dropped levels the exchange still counts. */
    if (b->max_depth != 0 && b->max_depth < need) return LIQ_ERR_DEPTH;
    const liq_side *bs = &b->side[LIQ_BID], *as = &b->side[LIQ_ASK];
    uint32_t crc = 0;
    int first = 1;
    size_t i, cb, ca;   /* level cursors, best first (see liq_side_next) */
    if (kind == LIQ_CHECKSUM_KRAKEN) {
        for (i = 0, ca = liq_side_best(as); ca && i < need; ca = liq_side_next(as, ca), i++)
            crc = kraken_level(crc, b, LIQ_ASK, ca - 1);
        for (i = 0, cb = liq_side_best(bs); cb && i < need; cb = liq_side_next(bs, cb), i++)
            crc = kraken_level(crc, b, LIQ_BID, cb - 1);
    } else {
        /* interleaved: bid i, ask i, ... while either side has a level */
        cb = liq_side_best(bs);
        ca = liq_side_best(as);
        for (i = 0; i < need && (cb || ca); i++) {
            if (kind == LIQ_CHECKSUM_OKX) {
                if (cb) crc = okx_level(crc, &first, b, LIQ_BID, cb - 1);
                if (ca) crc = okx_level(crc, &first, b, LIQ_ASK, ca - 1);
            } else {
                if (cb) crc = bitfinex_level(crc, &first, b, LIQ_BID, cb - 1);
                if (ca) crc = bitfinex_level(crc, &first, b, LIQ_ASK, ca - 1);
            }
            if (cb) cb = liq_side_next(bs, cb);
            if (ca) ca = liq_side_next(as, ca);
        }
    }
    *out = crc;
    return LIQ_OK;
}
