/* C unit tests of src/ws.c: server frame headers read, client frames written (RFC 6455). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "status.h"
#include "ws.h"

static void test_headers(void)
{
    liq_ws_frame f;
    /* a text frame of 5 bytes: header 2 */
    const uint8_t text[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
    CHECK_EQ_I64(liq_ws_read_header(text, sizeof text, &f), 2);
    CHECK_EQ_I64(f.opcode, LIQ_WS_TEXT);
    CHECK_EQ_I64(f.fin, 1);
    CHECK_EQ_I64(f.length, 5);
    /* a partial header is not an error */
    CHECK_EQ_I64(liq_ws_read_header(text, 1, &f), 0);
    CHECK_EQ_I64(liq_ws_read_header(text, 0, &f), 0);
    /* 16-bit length, not final (a fragment) */
    const uint8_t mid[] = {0x02, 126, 0x01, 0x00};
    CHECK_EQ_I64(liq_ws_read_header(mid, 3, &f), 0);
    CHECK_EQ_I64(liq_ws_read_header(mid, 4, &f), 4);
    CHECK_EQ_I64(f.length, 256);
    CHECK_EQ_I64(f.fin, 0);
    CHECK_EQ_I64(f.opcode, LIQ_WS_BINARY);
    /* 64-bit length, the largest allowed; then its most significant bit set */
    uint8_t big[10] = {0x80, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    CHECK_EQ_I64(liq_ws_read_header(big, 9, &f), 0);
    CHECK_EQ_I64(liq_ws_read_header(big, 10, &f), 10);
    CHECK(f.length == (uint64_t)INT64_MAX);
    CHECK_EQ_I64(f.opcode, LIQ_WS_CONTINUATION);
    big[2] = 0x80;
    CHECK_EQ_I64(liq_ws_read_header(big, 10, &f), LIQ_ERR_FORMAT);
    /* a short length written long is accepted */
    const uint8_t longform[] = {0x81, 126, 0x00, 0x03};
    CHECK_EQ_I64(liq_ws_read_header(longform, 4, &f), 4);
    CHECK_EQ_I64(f.length, 3);
    /* violations */
    const uint8_t rsv[] = {0xC1, 0x00}, masked[] = {0x81, 0x80}, reserved[] = {0x83, 0x00}, reserved_ctl[] = {0x8B, 0x00};
    const uint8_t frag_ping[] = {0x09, 0x00}, long_ping[] = {0x89, 126, 0x00, 0x7E}, ping125[] = {0x89, 125};
    CHECK_EQ_I64(liq_ws_read_header(rsv, 2, &f), LIQ_ERR_FORMAT);
    CHECK_EQ_I64(liq_ws_read_header(masked, 2, &f), LIQ_ERR_FORMAT);
    CHECK_EQ_I64(liq_ws_read_header(reserved, 2, &f), LIQ_ERR_FORMAT);
    CHECK_EQ_I64(liq_ws_read_header(reserved_ctl, 2, &f), LIQ_ERR_FORMAT);
    CHECK_EQ_I64(liq_ws_read_header(frag_ping, 2, &f), LIQ_ERR_FORMAT);
    CHECK_EQ_I64(liq_ws_read_header(long_ping, 4, &f), LIQ_ERR_FORMAT);
    CHECK_EQ_I64(liq_ws_read_header(ping125, 2, &f), 2);
    CHECK_EQ_I64(f.opcode, LIQ_WS_PING);
    CHECK_EQ_I64(f.length, 125);
}

/* A client frame, unmasked and with its mask bit cleared, reads back as the same frame. */
static void round_trip(unsigned opcode, size_t len)
{
    static uint8_t payload[70000], out[70000 + LIQ_WS_MAX_HEADER], back[70000 + LIQ_WS_MAX_HEADER];
    const uint8_t mask[4] = {0x37, 0xFA, 0x21, 0x3D};
    for (size_t i = 0; i < len; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    const size_t n = liq_ws_write_frame(out, sizeof out, opcode, payload, len, mask);
    const size_t header = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
    CHECK_EQ_I64(n, header + 4 + len);
    CHECK_EQ_I64(liq_ws_frame_size(len), n);
    CHECK(out[1] & 0x80);
    CHECK(memcmp(out + header, mask, 4) == 0);
    memcpy(back, out, header);
    back[1] &= 0x7F;
    for (size_t i = 0; i < len; i++)
        back[header + i] = (uint8_t)(out[header + 4 + i] ^ mask[i & 3]);
    liq_ws_frame f;
    CHECK_EQ_I64(liq_ws_read_header(back, header + len, &f), (long long)header);
    CHECK_EQ_I64(f.opcode, opcode);
    CHECK_EQ_I64(f.fin, 1);
    CHECK_EQ_I64(f.length, len);
    CHECK(memcmp(back + header, payload, len) == 0);
    /* one byte short of room: refused */
    CHECK_EQ_I64(liq_ws_write_frame(out, header + 3 + len, opcode, payload, len, mask), 0);
}

static void test_frame_size(void)
{
    CHECK_EQ_I64(liq_ws_frame_size(0), 6);
    CHECK_EQ_I64(liq_ws_frame_size(125), 131);
    CHECK_EQ_I64(liq_ws_frame_size(126), 134);
    CHECK_EQ_I64(liq_ws_frame_size(0xFFFF), 0xFFFF + 8);
    CHECK_EQ_I64(liq_ws_frame_size(0x10000), 0x10000 + 14);
    CHECK(liq_ws_frame_size(SIZE_MAX - 14) == SIZE_MAX);
    CHECK(liq_ws_frame_size(SIZE_MAX - 13) == 0);      /* would not fit */
}

static void test_write(void)
{
    /* RFC 6455 §5.7: a masked "Hello" */
    const uint8_t mask[4] = {0x37, 0xFA, 0x21, 0x3D};
    const uint8_t want[] = {0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58};
    uint8_t out[32];
    CHECK_EQ_I64(liq_ws_write_frame(out, sizeof out, LIQ_WS_TEXT, (const uint8_t *)"Hello", 5, mask), sizeof want);
    CHECK(memcmp(out, want, sizeof want) == 0);
    const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 69999};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        round_trip(LIQ_WS_TEXT, lens[i]);
        round_trip(LIQ_WS_BINARY, lens[i]);
    }
    round_trip(LIQ_WS_PING, 125);
    round_trip(LIQ_WS_CLOSE, 2);
    /* refused: unknown opcodes, a control frame over 125 bytes */
    uint8_t payload[126] = {0};
    CHECK_EQ_I64(liq_ws_write_frame(out, sizeof out, 3, payload, 1, mask), 0);
    CHECK_EQ_I64(liq_ws_write_frame(out, sizeof out, 16, payload, 1, mask), 0);
    uint8_t room[200];
    CHECK_EQ_I64(liq_ws_write_frame(room, sizeof room, LIQ_WS_PONG, payload, 126, mask), 0);
    CHECK_EQ_I64(liq_ws_write_frame(room, 0, LIQ_WS_TEXT, payload, 0, mask), 0);
}

int main(void)
{
    test_frame_size();
    test_headers();
    test_write();
    TEST_MAIN_END();
}
