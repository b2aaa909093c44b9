/* test_vm.c - the VM provisioner's pure pieces: the channel multiplexer
 * (src/ctl/vmmux.c) between two muxes joined by a socketpair, as host and
 * guest are by the virtio-serial port; and kernel images (vmkernel.c):
 * what a file is, and the ELF pulled out of a bzImage built here. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"
#include "vmkernel.h"
#include "vmmux.h"

/* ---- vmmux ------------------------------------------------------------------ */

struct pair {
	struct loop *loop;
	struct vmmux *host, *guest;
	int closed;
	char reason[256];
};

static void on_close(struct vmmux *m, const char *reason, void *ud)
{
	(void)m;
	struct pair *p = ud;
	p->closed++;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
}

static int setup_pair(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];
	assert_non_null(p);
	p->loop = loop_new();
	assert_non_null(p->loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(vmmux_new(&p->host, p->loop, sv[0], on_close, p), 0);
	assert_int_equal(vmmux_new(&p->guest, p->loop, sv[1], on_close, p), 0);
	*state = p;
	return 0;
}

static int teardown_pair(void **state)
{
	struct pair *p = *state;
	vmmux_free(p->host);
	vmmux_free(p->guest);
	loop_free(p->loop);
	free(p);
	return 0;
}

/* Runs the loop until fd has n bytes for buf (or EOF: returns what came). */
static size_t pump_read(struct pair *p, int fd, char *buf, size_t n)
{
	size_t got = 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (int i = 0; i < 2000 && got < n; i++) {
		loop_run_once(p->loop, 5);
		ssize_t r = read(fd, buf + got, n - got);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
	}
	return got;
}

/* Runs the loop until fd reads EOF; 1 if it did. */
static int pump_eof(struct pair *p, int fd)
{
	char c;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (int i = 0; i < 2000; i++) {
		loop_run_once(p->loop, 5);
		ssize_t r = read(fd, &c, 1);
		if (r == 0)
			return 1;
		if (r > 0)
			return 0;
	}
	return 0;
}

static void test_mux_both_ways(void **state)
{
	struct pair *p = *state;
	int h1, h2, g1, g2;
	assert_int_equal(vmmux_open(p->host, 1, &h1), 0);
	assert_int_equal(vmmux_open(p->host, 2, &h2), 0);
	assert_int_equal(vmmux_open(p->guest, 1, &g1), 0);
	assert_int_equal(vmmux_open(p->guest, 2, &g2), 0);
	assert_int_equal(write(h1, "one", 3), 3);
	assert_int_equal(write(h2, "two", 3), 3);
	assert_int_equal(write(g2, "back", 4), 4);
	char buf[16] = "";
	assert_int_equal(pump_read(p, g1, buf, 3), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(pump_read(p, g2, buf, 3), 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(pump_read(p, h2, buf, 4), 4);
	assert_memory_equal(buf, "back", 4);
	assert_int_equal(vmmux_open(p->host, 1, &h1), -EEXIST);
	assert_true(vmmux_last_rx(p->guest) > 0);
	assert_null(vmmux_ended(p->host));
	close(h1);
	close(h2);
	close(g1);
	close(g2);
}

/* Data for a channel without a socket yet waits for vmmux_attach (the
 * controller says hello before the guest started the agent). */
static void test_mux_before_attach(void **state)
{
	struct pair *p = *state;
	int h, g;
	assert_int_equal(vmmux_open(p->host, 7, &h), 0);
	assert_int_equal(write(h, "early", 5), 5);
	for (int i = 0; i < 20; i++)
		loop_run_once(p->loop, 5);
	assert_int_equal(vmmux_open(p->guest, 7, &g), 0);
	char buf[8];
	assert_int_equal(pump_read(p, g, buf, 5), 5);
	assert_memory_equal(buf, "early", 5);
	close(h);
	close(g);
}

/* A large transfer in both directions at once, through flow control. */
static void test_mux_bulk(void **state)
{
	struct pair *p = *state;
	int h, g;
	size_t n = 6u << 20;
	char *out = malloc(n), *in = malloc(n);
	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(i * 7 + i / 4096);
	assert_int_equal(vmmux_open(p->host, 3, &h), 0);
	assert_int_equal(vmmux_open(p->guest, 3, &g), 0);
	fcntl(h, F_SETFL, fcntl(h, F_GETFL) | O_NONBLOCK);
	fcntl(g, F_SETFL, fcntl(g, F_GETFL) | O_NONBLOCK);
	size_t sent = 0, got = 0;
	for (int i = 0; i < 100000 && got < n; i++) {
		if (sent < n) {
			ssize_t w = write(h, out + sent, n - sent);
			if (w > 0)
				sent += (size_t)w;
		}
		loop_run_once(p->loop, 1);
		ssize_t r = read(g, in + got, n - got);
		if (r > 0)
			got += (size_t)r;
	}
	assert_int_equal(got, n);
	assert_memory_equal(in, out, n);
	free(out);
	free(in);
	close(h);
	close(g);
}

/* EOF on one side's socket reaches the other side's socket. */
static void test_mux_eof(void **state)
{
	struct pair *p = *state;
	int h, g;
	assert_int_equal(vmmux_open(p->host, 4, &h), 0);
	assert_int_equal(vmmux_open(p->guest, 4, &g), 0);
	assert_int_equal(write(g, "bye", 3), 3);
	close(g);
	char buf[4];
	assert_int_equal(pump_read(p, h, buf, 3), 3);
	assert_true(pump_eof(p, h));
	close(h);
	assert_int_equal(p->closed, 0);
}

/* The stream ending (the VM died) closes every channel and says why. */
static void test_mux_stream_end(void **state)
{
	struct pair *p = *state;
	int h5, h6;
	assert_int_equal(vmmux_open(p->host, 5, &h5), 0);
	assert_int_equal(vmmux_open(p->host, 6, &h6), 0);
	vmmux_shutdown(p->guest, "gone");
	assert_true(pump_eof(p, h5));
	assert_true(pump_eof(p, h6));
	assert_int_equal(p->closed, 1);
	assert_string_equal(p->reason, "the VM channel reached EOF");
	assert_non_null(vmmux_ended(p->host));
	int x;
	assert_int_equal(vmmux_open(p->host, 9, &x), -EPIPE);
	close(h5);
	close(h6);
}

/* ---- vmkernel ---------------------------------------------------------------- */

static char tmpdir[] = "/tmp/lnst-test-vm.XXXXXX";

static void path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *p, const void *data, size_t n)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static unsigned char *read_file(const char *p, size_t *n)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc(*n ? *n : 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, *n, f), *n);
	fclose(f);
	return b;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A bzImage of the boot protocol's shape whose payload is the gzip of an
 * ELF (this test's own executable) and whose version says 9.9.9-test. */
static void make_bzimage(const char *out, const char *elf, size_t *elf_size)
{
	char gz[300], cmd[1200];
	path(gz, sizeof(gz), "payload.gz");
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s'", elf, gz);
	assert_int_equal(system(cmd), 0);
	size_t pn, en;
	unsigned char *payload = read_file(gz, &pn);
	unlink(gz);
	free(read_file(elf, &en));
	*elf_size = en;
	size_t setup = 2; /* setup_sects = 1: the payload starts at 2 * 512 */
	size_t n = setup * 512 + pn + 4;
	unsigned char *b = calloc(1, n);
	assert_non_null(b);
	b[0x1f1] = (unsigned char)(setup - 1);
	put16(b + 0x1fe, 0xaa55);
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x020f);
	put16(b + 0x20e, 0x100); /* version string at 0x300 */
	memcpy(b + 0x300, "9.9.9-test (nobody@nowhere) #1", 31);
	put32(b + 0x248, 0);
	put32(b + 0x24c, (uint32_t)pn);
	memcpy(b + setup * 512, payload, pn);
	put32(b + setup * 512 + pn, (uint32_t)en); /* like the kernel: the size after the stream */
	write_file(out, b, n);
	free(b);
	free(payload);
}

static void test_kernel_bzimage(void **state)
{
	(void)state;
	char bz[300], out[300], self[400], err[512];
	ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(sn > 0);
	self[sn] = 0;
	path(bz, sizeof(bz), "bzImage");
	path(out, sizeof(out), "vmlinux");
	size_t elf_size;
	make_bzimage(bz, self, &elf_size);
	struct vmkernel_info info;
	assert_int_equal(vmkernel_info(bz, &info, err, sizeof(err)), 0);
	assert_int_equal(info.format, VMKERNEL_BZIMAGE);
	assert_string_equal(info.release, "9.9.9-test");
	assert_int_equal(vmkernel_extract(bz, out, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal((size_t)st.st_size, elf_size);
	assert_int_equal(vmkernel_info(out, &info, err, sizeof(err)), 0);
	assert_int_equal(info.format, VMKERNEL_ELF);
	assert_false(info.pvh); /* a program, not a kernel with the Xen PVH note */
	unlink(bz);
	unlink(out);
}

static void test_kernel_bad(void **state)
{
	(void)state;
	char p[300], out[300], err[512];
	struct vmkernel_info info;
	path(p, sizeof(p), "zeros");
	path(out, sizeof(out), "never");
	unsigned char zeros[4096] = { 0 };
	write_file(p, zeros, sizeof(zeros));
	assert_int_equal(vmkernel_info(p, &info, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "neither an x86 bzImage nor an ELF vmlinux"));
	assert_int_equal(vmkernel_extract(p, out, err, sizeof(err)), -EINVAL);
	assert_int_equal(access(out, F_OK), -1);
	/* a bzImage header whose payload is not compressed data */
	zeros[0x1f1] = 1;
	put16(zeros + 0x1fe, 0xaa55);
	memcpy(zeros + 0x202, "HdrS", 4);
	put16(zeros + 0x206, 0x020f);
	put32(zeros + 0x24c, 100);
	write_file(p, zeros, sizeof(zeros));
	assert_int_equal(vmkernel_extract(p, out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown payload compression"));
	assert_int_equal(vmkernel_info("/nonexistent/kernel", &info, err, sizeof(err)), -ENOENT);
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mux_both_ways, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_mux_before_attach, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_mux_bulk, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_mux_eof, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_mux_stream_end, setup_pair, teardown_pair),
		cmocka_unit_test(test_kernel_bzimage),
		cmocka_unit_test(test_kernel_bad),
	};
	if (!mkdtemp(tmpdir))
		return 1;
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return failed;
}
