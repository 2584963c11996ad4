/*
 * ws.h — websocket framing (RFC 6455), the client's side, sans I/O.
 *
 * What a client needs to read a server's frames and write its own, on byte buffers it owns:
 * no socket, no allocation, no state. The reader (liqcore/_ws.pyx) keeps the partial frame
 * and the fragments of a message between reads; the handshake is in liqcore/feed/websocket.py.
 *
 * No extension is negotiated (no permessage-deflate), so a frame with an RSV bit set is a
 * protocol error, as are a masked server frame (RFC 6455 §5.1), a reserved opcode, a control
 * frame that is fragmented or carries more than 125 bytes (§5.5), and a 64-bit length with its
 * most significant bit set (§5.2). A 16- or 64-bit length that would fit a shorter form is
 * accepted (robustness: the length is still exact).
 */
#ifndef LIQ_WS_H
#define LIQ_WS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    LIQ_WS_CONTINUATION = 0x0,
    LIQ_WS_TEXT = 0x1,
    LIQ_WS_BINARY = 0x2,
    LIQ_WS_CLOSE = 0x8,
    LIQ_WS_PING = 0x9,
    LIQ_WS_PONG = 0xA,
    LIQ_WS_MAX_CONTROL = 125,     /* payload bytes a control frame may carry */
    LIQ_WS_MAX_HEADER = 14        /* 2 + 8 (64-bit length) + 4 (mask) */
};

/* The header of one frame. */
typedef struct liq_ws_frame {
    uint64_t length;     /* payload bytes after the header */
    uint8_t opcode;      /* LIQ_WS_* */
    uint8_t fin;         /* 1: the last frame of its message */
    uint8_t header;      /* header bytes (2, 4 or 10 for a server frame) */
} liq_ws_frame;

/*
 * Reads the header of a server frame at p[0..n). Returns the header's size (> 0) with *f
 * filled; 0 when p holds only part of a header (read more, call again); LIQ_ERR_FORMAT
 * (negative, status.h) on a protocol violation (see above), *f then unspecified. The
 * payload is not looked at: the caller checks that n >= f->header + f->length. O(1).
 */
int liq_ws_read_header(const uint8_t *p, size_t n, liq_ws_frame *f);

/*
 * Writes one client frame (FIN set, masked with mask[0..4), as RFC 6455 §5.3 requires of a
 * client) of opcode with payload[0..len) into out[0..cap). Returns the bytes written
 * (header, mask key and payload), or 0 when cap is too small, the opcode is not one of the six above, or a
 * control frame's payload exceeds LIQ_WS_MAX_CONTROL; out is then unspecified. cap >=
 * len + LIQ_WS_MAX_HEADER always suffices. out and payload must not overlap. O(len).
 */
size_t liq_ws_write_frame(uint8_t *out, size_t cap, unsigned opcode, const uint8_t *payload, size_t len,
                          const uint8_t mask[4]);

/* The size of the client frame liq_ws_write_frame writes for a payload of len bytes (header,
 * mask key and payload); 0 when it would not fit in a size_t. O(1). */
size_t liq_ws_frame_size(size_t len);

#ifdef __cplusplus
}
#endif
#endif
