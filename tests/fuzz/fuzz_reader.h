/*
 * fuzz_reader.h — the byte reader the fuzz harnesses decode their input with: little-endian
 * integers read from the fuzzer's bytes, zeros once they are exhausted (so every input, however
 * short, decodes to something). Header-only, static inline.
 */
#ifndef LIQ_FUZZ_READER_H
#define LIQ_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct rd {
    const uint8_t *p;
    size_t n, i;
} rd;

static inline uint8_t u8(rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }

static inline uint64_t u64(rd *r)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v |= (uint64_t)u8(r) << (8 * k);
    return v;
}

static inline int more(const rd *r) { return r->i < r->n; }

#endif
