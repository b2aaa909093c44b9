/* test_frame.c - unit tests for the wire frame reader and header codec
 * (frame.h): whole, split, truncated, empty and oversized frames, the size
 * limit at its boundary, buffer reuse over many frames, and reading from a
 * real socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"

/* Header + payload in buf; returns the frame length. */
static size_t build(uint8_t *buf, const void *payload, uint32_t len)
{
	frame_header_put(buf, len);
	memcpy(buf + FRAME_HDR_LEN, payload, len);
	return FRAME_HDR_LEN + (size_t)len;
}

static void expect_frame(struct frame_reader *r, const void *want, uint32_t want_len)
{
	const char *payload = NULL;
	uint32_t len = 0;
	assert_int_equal(frame_reader_next(r, &payload, &len), 1);
	assert_int_equal(len, want_len);
	assert_non_null(payload);
	if (want_len)
		assert_memory_equal(payload, want, want_len);
}

static void expect_none(struct frame_reader *r)
{
	const char *payload;
	uint32_t len;
	assert_int_equal(frame_reader_next(r, &payload, &len), 0);
}

static void test_good_frame(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t buf[64];
	frame_reader_init(&r, 1024);
	expect_none(&r);
	size_t n = build(buf, "hello", 5);
	assert_int_equal(frame_reader_feed(&r, buf, n), 0);
	expect_frame(&r, "hello", 5);
	expect_none(&r);
	frame_reader_free(&r);
	assert_null(r.buf);
}

static void test_two_frames_one_feed(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t buf[64];
	size_t n = build(buf, "first", 5);
	n += build(buf + n, "second!", 7);
	frame_reader_init(&r, 1024);
	assert_int_equal(frame_reader_feed(&r, buf, n), 0);
	expect_frame(&r, "first", 5);
	expect_frame(&r, "second!", 7);
	expect_none(&r);
	frame_reader_free(&r);
}

static void test_byte_by_byte(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t buf[64];
	const char *msg = "{\"id\":1,\"method\":\"ping\"}";
	size_t n = build(buf, msg, (uint32_t)strlen(msg));
	frame_reader_init(&r, 1024);
	for (size_t i = 0; i + 1 < n; i++) {
		assert_int_equal(frame_reader_feed(&r, buf + i, 1), 0);
		expect_none(&r);
	}
	assert_int_equal(frame_reader_feed(&r, buf + n - 1, 1), 0);
	expect_frame(&r, msg, (uint32_t)strlen(msg));
	expect_none(&r);
	frame_reader_free(&r);
}

static void test_truncated(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t buf[64];
	size_t n = build(buf, "0123456789", 10);
	frame_reader_init(&r, 1024);

	/* Part of the header, all of it, part of the payload: nothing yet. */
	assert_int_equal(frame_reader_feed(&r, buf, 2), 0);
	expect_none(&r);
	assert_int_equal(frame_reader_feed(&r, buf + 2, 2), 0);
	expect_none(&r);
	assert_int_equal(frame_reader_feed(&r, buf + 4, 6), 0);
	expect_none(&r);
	expect_none(&r);
	/* The rest arrives: the frame is whole, nothing lost or repeated. */
	assert_int_equal(frame_reader_feed(&r, buf + 10, n - 10), 0);
	expect_frame(&r, "0123456789", 10);
	expect_none(&r);
	frame_reader_free(&r);
}

static void test_oversized(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t hdr[FRAME_HDR_LEN];
	const char *payload;
	uint32_t len;
	frame_reader_init(&r, 100);
	/* The header alone is enough to refuse; the payload is never awaited. */
	frame_header_put(hdr, 0x7fffffff);
	assert_int_equal(frame_reader_feed(&r, hdr, sizeof(hdr)), 0);
	assert_int_equal(frame_reader_next(&r, &payload, &len), -EMSGSIZE);
	assert_int_equal(frame_reader_next(&r, &payload, &len), -EMSGSIZE);
	frame_reader_free(&r);

	frame_reader_init(&r, 100);
	frame_header_put(hdr, 0xffffffff);
	assert_int_equal(frame_reader_feed(&r, hdr, sizeof(hdr)), 0);
	assert_int_equal(frame_reader_next(&r, &payload, &len), -EMSGSIZE);
	frame_reader_free(&r);
}

static void test_max_boundary(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t *buf = malloc(FRAME_HDR_LEN + 101);
	uint8_t payload[101];
	const char *p;
	uint32_t len;
	assert_non_null(buf);
	memset(payload, 'm', sizeof(payload));
	frame_reader_init(&r, 100);

	size_t n = build(buf, payload, 100);
	assert_int_equal(frame_reader_feed(&r, buf, n), 0);
	expect_frame(&r, payload, 100);

	n = build(buf, payload, 101);
	assert_int_equal(frame_reader_feed(&r, buf, n), 0);
	assert_int_equal(frame_reader_next(&r, &p, &len), -EMSGSIZE);
	frame_reader_free(&r);
	free(buf);
}

static void test_default_max(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t hdr[FRAME_HDR_LEN];
	const char *p;
	uint32_t len;
	frame_reader_init(&r, 0);
	assert_int_equal(r.max, FRAME_MAX_DEFAULT);
	/* At the default limit the reader waits for the payload; above it, refuses. */
	frame_header_put(hdr, FRAME_MAX_DEFAULT);
	assert_int_equal(frame_reader_feed(&r, hdr, sizeof(hdr)), 0);
	assert_int_equal(frame_reader_next(&r, &p, &len), 0);
	frame_reader_free(&r);

	frame_reader_init(&r, 0);
	frame_header_put(hdr, FRAME_MAX_DEFAULT + 1);
	assert_int_equal(frame_reader_feed(&r, hdr, sizeof(hdr)), 0);
	assert_int_equal(frame_reader_next(&r, &p, &len), -EMSGSIZE);
	frame_reader_free(&r);
}

static void test_zero_length(void **state)
{
	(void)state;
	struct frame_reader r;
	uint8_t buf[64];
	size_t n = build(buf, "", 0);
	n += build(buf + n, "", 0);
	n += build(buf + n, "x", 1);
	frame_reader_init(&r, 1024);
	assert_int_equal(frame_reader_feed(&r, buf, n), 0);
	expect_frame(&r, "", 0);
	expect_frame(&r, "", 0);
	expect_frame(&r, "x", 1);
	expect_none(&r);
	frame_reader_free(&r);
}

static void test_header_codec(void **state)
{
	(void)state;
	static const uint32_t values[] = { 0, 1, 0xff, 0x100, 0x01020304, 0x7fffffff,
					   0x80000000, FRAME_MAX_DEFAULT, 0xfffffffe, 0xffffffff };
	uint8_t hdr[FRAME_HDR_LEN];
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		frame_header_put(hdr, values[i]);
		assert_int_equal(frame_header_get(hdr), values[i]);
	}
	/* Big-endian on the wire. */
	frame_header_put(hdr, 0x01020304);
	assert_int_equal(hdr[0], 1);
	assert_int_equal(hdr[1], 2);
	assert_int_equal(hdr[2], 3);
	assert_int_equal(hdr[3], 4);
	frame_header_put(hdr, 0xffffffff);
	for (int i = 0; i < FRAME_HDR_LEN; i++)
		assert_int_equal(hdr[i], 0xff);
	static const uint8_t wire[FRAME_HDR_LEN] = { 0x80, 0x00, 0x00, 0x2a };
	assert_int_equal(frame_header_get(wire), 0x8000002a);
}

static uint32_t stream_len(int i)
{
	return (uint32_t)(i * 37 % 9000);
}

/* Takes the next frame of test_stream if whole; 1 when taken. */
static int stream_take(struct frame_reader *r, int i)
{
	const char *p;
	uint32_t len;
	int rc = frame_reader_next(r, &p, &len);
	assert_true(rc >= 0);
	if (!rc)
		return 0;
	assert_int_equal(len, stream_len(i));
	for (uint32_t j = 0; j < len; j++)
		if ((uint8_t)p[j] != (uint8_t)(i + j))
			fail_msg("frame %d byte %u corrupted", i, j);
	return 1;
}

/* Many frames of varying sizes, fed in uneven chunks, with frames left
 * pending between feeds: exercises compaction and growth of the buffer. */
static void test_stream(void **state)
{
	(void)state;
	enum { FRAMES = 3000 };
	struct frame_reader r;
	size_t cap = 0, total = 0;
	uint32_t seed = 12345;
	uint8_t *stream;
	for (int i = 0; i < FRAMES; i++)
		cap += FRAME_HDR_LEN + stream_len(i);
	stream = malloc(cap);
	assert_non_null(stream);
	for (int i = 0; i < FRAMES; i++) {
		uint32_t len = stream_len(i);
		frame_header_put(stream + total, len);
		for (uint32_t j = 0; j < len; j++)
			stream[total + FRAME_HDR_LEN + j] = (uint8_t)(i + j);
		total += FRAME_HDR_LEN + len;
	}

	frame_reader_init(&r, 9000);
	size_t fed = 0;
	int got = 0;
	while (fed < total) {
		seed = seed * 1103515245 + 12345;
		size_t chunk = 1 + (seed >> 8) % 20000;
		if (chunk > total - fed)
			chunk = total - fed;
		assert_int_equal(frame_reader_feed(&r, stream + fed, chunk), 0);
		fed += chunk;
		/* Take at most two frames per feed so some stay buffered. */
		for (int k = 0; k < 2 && stream_take(&r, got); k++)
			got++;
	}
	while (stream_take(&r, got))
		got++;
	assert_int_equal(got, FRAMES);
	frame_reader_free(&r);
	free(stream);
}

static void write_all(int fd, const void *data, size_t n)
{
	const uint8_t *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

static void test_fill_socket(void **state)
{
	(void)state;
	struct frame_reader r;
	int sv[2];
	uint8_t buf[64];
	const char *msg = "{\"event\":\"log\",\"text\":\"hi\"}";
	uint32_t mlen = (uint32_t)strlen(msg);
	size_t n = build(buf, msg, mlen);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	frame_reader_init(&r, 1024);

	/* Half the header, then the rest of it with part of the payload, then the rest. */
	write_all(sv[1], buf, 2);
	assert_int_equal(frame_reader_fill(&r, sv[0]), 2);
	expect_none(&r);
	write_all(sv[1], buf + 2, 7);
	assert_int_equal(frame_reader_fill(&r, sv[0]), 7);
	expect_none(&r);
	write_all(sv[1], buf + 9, n - 9);
	assert_int_equal(frame_reader_fill(&r, sv[0]), (ssize_t)(n - 9));
	expect_frame(&r, msg, mlen);
	expect_none(&r);

	/* Two frames in one write come out of one fill. */
	size_t n2 = build(buf, "ab", 2);
	n2 += build(buf + n2, "cde", 3);
	write_all(sv[1], buf, n2);
	assert_int_equal(frame_reader_fill(&r, sv[0]), (ssize_t)n2);
	expect_frame(&r, "ab", 2);
	expect_frame(&r, "cde", 3);
	expect_none(&r);

	/* EOF reads as 0. */
	close(sv[1]);
	assert_int_equal(frame_reader_fill(&r, sv[0]), 0);
	close(sv[0]);
	frame_reader_free(&r);
}

/* A frame larger than the reader's initial buffer arrives through fill. */
static void test_fill_large(void **state)
{
	(void)state;
	enum { LEN = 60000 };
	struct frame_reader r;
	int sv[2];
	uint8_t *buf = malloc(FRAME_HDR_LEN + LEN);
	assert_non_null(buf);
	for (size_t i = 0; i < LEN; i++)
		buf[FRAME_HDR_LEN + i] = (uint8_t)(i * 7);
	frame_header_put(buf, LEN);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	write_all(sv[1], buf, FRAME_HDR_LEN + LEN);
	close(sv[1]);

	frame_reader_init(&r, LEN);
	const char *p;
	uint32_t len;
	size_t total = 0;
	int rc, fills = 0;
	while ((rc = frame_reader_next(&r, &p, &len)) == 0) {
		ssize_t n = frame_reader_fill(&r, sv[0]);
		assert_true(n > 0);
		total += (size_t)n;
		fills++;
	}
	assert_int_equal(rc, 1);
	assert_int_equal(total, FRAME_HDR_LEN + LEN);
	/* The first read learns the length; the second is sized to the rest. */
	assert_int_equal(fills, 2);
	assert_int_equal(len, LEN);
	assert_memory_equal(p, buf + FRAME_HDR_LEN, LEN);
	assert_int_equal(frame_reader_fill(&r, sv[0]), 0);
	close(sv[0]);
	frame_reader_free(&r);
	free(buf);
}

static void test_fill_bad_fd(void **state)
{
	(void)state;
	struct frame_reader r;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	close(sv[1]);
	frame_reader_init(&r, 1024);
	assert_int_equal(frame_reader_fill(&r, sv[0]), -EBADF);
	frame_reader_free(&r);
}

/* Regression: with a whole frame and the start of the next buffered and the
 * buffer exactly full, a fill must still read (it once computed a wrapped
 * size, made no room and read 0 bytes, which looked like EOF). */
static void test_fill_with_complete_frame_buffered(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	static uint8_t out[16384];
	memset(out, 'x', sizeof(out));
	frame_header_put(out, 6);              /* frame 1: 6 bytes of payload */
	frame_header_put(out + 10, 20000);     /* frame 2: larger than what is buffered */
	assert_int_equal(write(sv[1], out, sizeof(out)), (ssize_t)sizeof(out));
	struct frame_reader r;
	frame_reader_init(&r, 1 << 20);
	assert_int_equal(frame_reader_fill(&r, sv[0]), 16384);
	assert_int_equal(write(sv[1], "abcd", 4), 4);
	assert_int_equal(frame_reader_fill(&r, sv[0]), 4);
	const char *p;
	uint32_t len;
	assert_int_equal(frame_reader_next(&r, &p, &len), 1);
	assert_int_equal(len, 6);
	frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_frame),
		cmocka_unit_test(test_two_frames_one_feed),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_max_boundary),
		cmocka_unit_test(test_default_max),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_header_codec),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_fill_socket),
		cmocka_unit_test(test_fill_large),
		cmocka_unit_test(test_fill_bad_fd),
		cmocka_unit_test(test_fill_with_complete_frame_buffered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
