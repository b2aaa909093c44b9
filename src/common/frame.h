/* frame.h - the wire frame: a 4-byte big-endian payload length, then payload.
 *
 * The reader owns a growable buffer; the caller feeds it bytes (from a socket
 * or, in tests and fuzzers, from memory) and takes complete payloads out.
 * A length above the configured maximum is a protocol error: the caller must
 * close the connection. Nothing here allocates per frame.
 */
#ifndef LNST_FRAME_H
#define LNST_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_HDR_LEN 4
#define FRAME_MAX_DEFAULT (16u << 20)

struct frame_reader {
	char *buf;
	size_t len;   /* bytes held */
	size_t off;   /* start of unconsumed data */
	size_t cap;
	uint32_t max; /* largest payload accepted */
};

void frame_reader_init(struct frame_reader *r, uint32_t max);
void frame_reader_free(struct frame_reader *r);
/* Append bytes; 0 or -ENOMEM. */
int frame_reader_feed(struct frame_reader *r, const void *data, size_t n);
/* One read(2) from fd into the buffer: >0 bytes, 0 on EOF, -errno. */
ssize_t frame_reader_fill(struct frame_reader *r, int fd);
/* Next complete payload: 1 and (*payload, *len) valid until the next call,
 * 0 when more bytes are needed, -EMSGSIZE when the announced length exceeds
 * the maximum. */
int frame_reader_next(struct frame_reader *r, const char **payload, uint32_t *len);

void frame_header_put(uint8_t hdr[FRAME_HDR_LEN], uint32_t len);
uint32_t frame_header_get(const uint8_t hdr[FRAME_HDR_LEN]);

#endif
