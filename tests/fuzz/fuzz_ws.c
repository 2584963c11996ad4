/*
 * fuzz_ws.c — libFuzzer harness over websocket framing (src/ws.h).
 *
 * Input: byte 0 selects; the rest is a byte stream.
 *   - Read: the stream is read as server frames, header by header, by liq_ws_read_header and by
 *     a reference written here from RFC 6455 §5.2 (bit by bit): the same verdict (header size,
 *     0 for "more bytes", LIQ_ERR_FORMAT) and the same fields, and every shorter prefix of a
 *     header gives 0 or the same verdict (a frame split across reads is read the same way).
 *   - Write: the stream is a payload written as a client frame of an opcode from byte 0 with a
 *     mask from the first 4 bytes: refused exactly for an unknown opcode or a control frame over
 *     125 bytes, else it unmasks and reads back (liq_ws_read_header, mask bit cleared) to the
 *     same opcode and payload; a buffer one byte short is refused.
 * Violations abort (libFuzzer reports a crash); ASan/UBSan catch the rest.
 *
 * Build: cmake -DLIQ_BUILD_FUZZ=ON with clang (target fuzz_ws), or tests/sanitize.sh. With
 * -DLIQ_FUZZ_STANDALONE: a main() replaying the files given (ctest: corpus_ws/).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "ws.h"

#define FUZZ_HARNESS "fuzz_ws"
#include "fuzz_fail.h"

/* RFC 6455 §5.2 read bit by bit, for a client that negotiated no extension. */
static int reference(const uint8_t *p, size_t n, liq_ws_frame *f)
{
    if (n < 2)
        return 0;
    const int fin = (p[0] >> 7) & 1, rsv1 = (p[0] >> 6) & 1, rsv2 = (p[0] >> 5) & 1, rsv3 = (p[0] >> 4) & 1;
    const int op = p[0] & 0xF, mask = (p[1] >> 7) & 1, len7 = p[1] & 0x7F;
    const int control = op == 8 || op == 9 || op == 10, data = op == 0 || op == 1 || op == 2;
    if (rsv1 || rsv2 || rsv3 || mask || (!control && !data))
        return LIQ_ERR_FORMAT;
    const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    if (n < 2 + ext)
        return 0;
    uint64_t len = (uint64_t)len7;
    if (ext) {
        len = 0;
        for (size_t i = 0; i < ext; i++)
            len = len * 256 + p[2 + i];
        if (ext == 8 && (p[2] & 0x80))
            return LIQ_ERR_FORMAT;
    }
    if (control && (!fin || len > 125))
        return LIQ_ERR_FORMAT;
    f->fin = (uint8_t)fin, f->opcode = (uint8_t)op, f->length = len, f->header = (uint8_t)(2 + ext);
    return (int)(2 + ext);
}

static void check_read(const uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (pos <= n) {
        liq_ws_frame a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
        const int got = liq_ws_read_header(p + pos, n - pos, &a), want = reference(p + pos, n - pos, &b);
        if (got != want)
            FAIL("read at %zu: %d, the reference %d", pos, got, want);
        for (size_t k = 0; k < n - pos && k < LIQ_WS_MAX_HEADER; k++) {
            liq_ws_frame c;
            const int part = liq_ws_read_header(p + pos, k, &c);
            if (part != 0 && part != got)
                FAIL("a prefix of %zu bytes at %zu: %d, the whole %d", k, pos, part, got);
        }
        if (got <= 0)
            return;
        if (a.fin != b.fin || a.opcode != b.opcode || a.length != b.length || a.header != b.header)
            FAIL("fields at %zu differ from the reference", pos);
        if (a.length > n - pos - (size_t)got)
            return;
        pos += (size_t)got + (size_t)a.length;
    }
}

static void check_write(unsigned opcode, const uint8_t *mask, const uint8_t *payload, size_t len)
{
    const size_t cap = len + LIQ_WS_MAX_HEADER;
    uint8_t *out = malloc(cap), *back = malloc(cap);
    if (!out || !back)
        abort();
    const size_t n = liq_ws_write_frame(out, cap, opcode, payload, len, mask);
    const int known = opcode <= 2 || (opcode >= 8 && opcode <= 10);
    if (!known || (opcode >= 8 && len > 125)) {
        if (n != 0)
            FAIL("opcode %u with %zu bytes written", opcode, len);
    } else {
        const size_t header = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
        if (n != header + 4 + len)
            FAIL("opcode %u with %zu bytes: %zu written", opcode, len, n);
        if (memcmp(out + header, mask, 4) != 0 || !(out[1] & 0x80))
            FAIL("the mask is not in the frame");
        memcpy(back, out, header);
        back[1] &= 0x7F;
        for (size_t i = 0; i < len; i++)
            back[header + i] = (uint8_t)(out[header + 4 + i] ^ mask[i & 3]);
        liq_ws_frame f;
        if (liq_ws_read_header(back, header + len, &f) != (int)header || f.opcode != opcode || f.length != len || !f.fin)
            FAIL("the frame does not read back");
        if (len && memcmp(back + header, payload, len) != 0)
            FAIL("the payload does not unmask back");
        if (liq_ws_write_frame(out, header + 3 + len, opcode, payload, len, mask) != 0)
            FAIL("written into a buffer one byte short");
    }
    free(out);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t sel = data[0];
    if (!(sel & 0x80)) {
        check_read(data + 1, size - 1);
    } else if (size >= 5) {
        check_write(sel & 0x1F, data + 1, data + 5, size - 5);
    }
    return 0;
}

#include "fuzz_standalone.h"
