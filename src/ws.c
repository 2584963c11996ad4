/* ws.c — websocket framing (RFC 6455), the client's side; contracts in ws.h. */
#include "ws.h"

#include <stdint.h>
#include <string.h>

#include "status.h"

static int known_opcode(unsigned op)
{
    return op <= LIQ_WS_BINARY || (op >= LIQ_WS_CLOSE && op <= LIQ_WS_PONG);
}

int liq_ws_read_header(const uint8_t *p, size_t n, liq_ws_frame *f)
{
    if (n < 2)
        return 0;
    unsigned b0 = p[0], b1 = p[1];
    unsigned op = b0 & 0x0Fu;
    if ((b0 & 0x70u) != 0 || (b1 & 0x80u) != 0 || !known_opcode(op))
        return LIQ_ERR_FORMAT;              /* RSV without an extension, a masked frame, a reserved opcode */
    uint64_t len = b1 & 0x7Fu;
    int header = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = ((uint64_t)p[2] << 8) | p[3];
        header = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 2; i < 10; i++)
            len = (len << 8) | p[i];
        if (len >> 63)
            return LIQ_ERR_FORMAT;
        header = 10;
    }
    f->fin = (uint8_t)(b0 >> 7);
    if (op >= LIQ_WS_CLOSE && (!f->fin || len > LIQ_WS_MAX_CONTROL))
        return LIQ_ERR_FORMAT;
    f->opcode = (uint8_t)op;
    f->length = len;
    f->header = (uint8_t)header;
    return header;
}

/* the header before the mask key: 2 bytes, then the 16- or 64-bit extended length */
static size_t length_header(size_t len) { return len < 126 ? 2 : len <= 0xFFFF ? 4 : 10; }

size_t liq_ws_frame_size(size_t len)
{
    size_t header = length_header(len) + 4;
    return len > SIZE_MAX - header ? 0 : header + len;
}

size_t liq_ws_write_frame(uint8_t *out, size_t cap, unsigned opcode, const uint8_t *payload, size_t len,
                          const uint8_t mask[4])
{
    if (!known_opcode(opcode) || (opcode >= LIQ_WS_CLOSE && len > LIQ_WS_MAX_CONTROL))
        return 0;
    const size_t size = liq_ws_frame_size(len);
    if (size == 0 || cap < size)
        return 0;
    const size_t header = length_header(len);
    out[0] = (uint8_t)(0x80u | opcode);
    if (header == 2) {
        out[1] = (uint8_t)(0x80u | len);
    } else if (header == 4) {
        out[1] = 0x80u | 126u;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
    } else {
        out[1] = 0x80u | 127u;
        uint64_t l = len;
        for (int i = 9; i >= 2; i--, l >>= 8)
            out[i] = (uint8_t)l;
    }
    memcpy(out + header, mask, 4);
    uint8_t *dst = out + header + 4;
    for (size_t i = 0; i < len; i++)
        dst[i] = (uint8_t)(payload[i] ^ mask[i & 3]);
    return size;
}
