/* frame.c - incremental decoder and header encoder for wire frames (frame.h). */
#include "frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void frame_reader_init(struct frame_reader *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max ? max : FRAME_MAX_DEFAULT;
}

void frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int reserve(struct frame_reader *r, size_t extra)
{
	if (extra > SIZE_MAX / 2 - r->len)
		return -ENOMEM;
	if (r->off > 0 && (r->off == r->len || r->len + extra > r->cap)) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->len + extra <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 4096;
	while (cap < r->len + extra)
		cap *= 2;
	char *nb = realloc(r->buf, cap);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->cap = cap;
	return 0;
}

int frame_reader_feed(struct frame_reader *r, const void *data, size_t n)
{
	int err = reserve(r, n);
	if (err)
		return err;
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}

ssize_t frame_reader_fill(struct frame_reader *r, int fd)
{
	/* Read at least a page, more when a large frame is pending. */
	size_t want = 16384;
	size_t avail = r->len - r->off;
	if (avail >= FRAME_HDR_LEN) {
		uint32_t plen = frame_header_get((const uint8_t *)r->buf + r->off);
		size_t total = FRAME_HDR_LEN + (size_t)plen;
		/* Only a frame still incomplete asks for more room. */
		if (plen <= r->max && total > avail && total - avail > want)
			want = total - avail;
	}
	int err = reserve(r, want);
	if (err)
		return err;
	ssize_t n;
	do
		n = read(fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->len += (size_t)n;
	return n;
}

int frame_reader_next(struct frame_reader *r, const char **payload, uint32_t *len)
{
	size_t avail = r->len - r->off;
	if (avail < FRAME_HDR_LEN)
		return 0;
	uint32_t plen = frame_header_get((const uint8_t *)r->buf + r->off);
	if (plen > r->max)
		return -EMSGSIZE;
	if (avail < FRAME_HDR_LEN + (size_t)plen)
		return 0;
	*payload = r->buf + r->off + FRAME_HDR_LEN;
	*len = plen;
	r->off += FRAME_HDR_LEN + plen;
	return 1;
}

void frame_header_put(uint8_t hdr[FRAME_HDR_LEN], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

uint32_t frame_header_get(const uint8_t hdr[FRAME_HDR_LEN])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}
