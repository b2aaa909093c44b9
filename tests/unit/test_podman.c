/* test_podman.c - unit tests of src/podman: service URIs, requests against a
 * tiny HTTP server on a Unix socket (status, body, version header, a
 * service that is not there), watches on such a server (its going ends
 * them; an error answer or no server fails them), and CNI conflists in a
 * temporary directory. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cni.h"
#include "podman.h"

static void test_uris(void **state)
{
	(void)state;
	struct podman *p;
	char err[256];
	assert_int_equal(podman_open(&p, "unix:///run/podman/podman.sock", 1000, err, sizeof(err)), 0);
	assert_true(podman_is_unix(p));
	assert_string_equal(podman_host(p), "");
	assert_string_equal(podman_uri(p), "unix:///run/podman/podman.sock");
	podman_close(p);
	assert_int_equal(podman_open(&p, "unix:/run/x.sock", 1000, err, sizeof(err)), 0);
	podman_close(p);
	assert_int_equal(podman_open(&p, "tcp://198.51.100.7:8888", 1000, err, sizeof(err)), 0);
	assert_false(podman_is_unix(p));
	assert_string_equal(podman_host(p), "198.51.100.7");
	podman_close(p);
	assert_int_equal(podman_open(&p, "tcp://[2001:db8::1]:8888", 1000, err, sizeof(err)), 0);
	assert_string_equal(podman_host(p), "2001:db8::1");
	podman_close(p);
	static const char *const bad[] = { "http://x:1", "tcp://host", "tcp://host:0", "tcp://host:99999",
					   "tcp://:80", "unix://relative.sock", "", "tcp://h:1/path" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(podman_open(&p, bad[i], 1000, err, sizeof(err)), -EINVAL);
		assert_true(strstr(err, "Podman URI") != NULL);
	}
}

/* A one-shot HTTP server: answers one request on path with a fixed reply. */
static pid_t serve_once(const char *path, const char *reply)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&su, sizeof(su)), 0);
	assert_int_equal(listen(fd, 1), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char buf[4096];
		int c = accept(fd, NULL, NULL);
		ssize_t n = read(c, buf, sizeof(buf) - 1); /* the request fits one read here */
		if (n > 0 && write(c, reply, strlen(reply)) < 0)
			_exit(1);
		close(c);
		_exit(n > 0 ? 0 : 1);
	}
	close(fd);
	return pid;
}

static void test_request(void **state)
{
	(void)state;
	char dir[] = "/tmp/lnst-test-podman-XXXXXX", path[100], uri[160], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	pid_t pid = serve_once(path, "HTTP/1.1 200 OK\r\nLibpod-API-Version: 4.3.1\r\n"
				     "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\": true}");
	struct podman *p;
	assert_int_equal(podman_open(&p, uri, 2000, err, sizeof(err)), 0);
	struct podman_req r = { .method = "POST", .path = "/containers/create", .body = "{}" };
	assert_int_equal(podman_batch(p, &r, 1), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.reply, "{\"a\": true}");
	assert_int_equal(r.reply_len, 11);
	assert_string_equal(r.version, "4.3.1");
	assert_string_equal(r.err, "");
	podman_req_clear(&r, 1);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* nobody listens any more */
	unlink(path);
	struct podman_req r2 = { .method = "GET", .path = "/_ping" };
	assert_int_equal(podman_batch(p, &r2, 1), 0);
	assert_int_equal(r2.status, 0);
	assert_null(r2.reply);
	assert_true(strstr(r2.err, "cannot connect to ") != NULL);
	assert_true(strstr(r2.err, "No such file or directory") != NULL);
	podman_close(p);
	rmdir(dir);
}

static void test_watch(void **state)
{
	(void)state;
	char dir[] = "/tmp/lnst-test-podman-XXXXXX", path[100], uri[160], err[256], why[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	struct podman *p;
	struct podman_watch *w;
	assert_int_equal(podman_open(&p, uri, 2000, err, sizeof(err)), 0);
	/* a stream that the server ends (it went away) */
	pid_t pid = serve_once(path, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				     "Transfer-Encoding: chunked\r\n\r\n");
	assert_int_equal(podman_watch_open(p, "/events?stream=true", &w, err, sizeof(err)), 0);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	struct pollfd pf = { .fd = podman_watch_fd(w), .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 2000), 1);
	assert_int_equal(podman_watch_drain(w, why, sizeof(why)), 1);
	assert_string_equal(why, "it closed the connection");
	podman_watch_close(w);
	/* an error answer */
	pid = serve_once(path, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(podman_watch_open(p, "/events?stream=true", &w, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "the service answered 'HTTP/1.1 500 Internal Server Error'");
	waitpid(pid, &st, 0);
	/* nobody listens */
	unlink(path);
	assert_int_equal(podman_watch_open(p, "/events?stream=true", &w, err, sizeof(err)), -ECONNREFUSED);
	assert_true(strstr(err, "cannot connect to ") != NULL);
	assert_true(strstr(err, "No such file or directory") != NULL);
	podman_close(p);
	rmdir(dir);
}

static void test_cni(void **state)
{
	(void)state;
	char dir[] = "/tmp/lnst-test-cni-XXXXXX", err[512], path[256];
	assert_non_null(mkdtemp(dir));
	cJSON *labels = cJSON_CreateObject();
	cJSON_AddStringToObject(labels, "lnst.run", "abc123");
	assert_int_equal(cni_write(dir, "lnst-abc123-net1", "lnst-abc123-1", labels, err, sizeof(err)), 0);
	assert_int_equal(cni_write(dir, "lnst-abc123-net1", "lnst-abc123-1", labels, err, sizeof(err)), -EEXIST);
	assert_int_equal(cni_write(dir, "other", "br9", NULL, err, sizeof(err)), 0);
	assert_int_equal(cni_write(dir, "../escape", "br9", NULL, err, sizeof(err)), -EINVAL);
	char *bridge;
	cJSON *got;
	assert_int_equal(cni_read(dir, "lnst-abc123-net1", &bridge, &got, err, sizeof(err)), 0);
	assert_string_equal(bridge, "lnst-abc123-1");
	assert_string_equal(cJSON_GetObjectItem(got, "lnst.run")->valuestring, "abc123");
	free(bridge);
	cJSON_Delete(got);
	/* the file is a bridge conflist without IPAM */
	snprintf(path, sizeof(path), "%s/lnst-abc123-net1.conflist", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char text[4096];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	cJSON *root = cJSON_Parse(text);
	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(root, "name")->valuestring, "lnst-abc123-net1");
	cJSON *pl = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "plugins"), 0);
	assert_string_equal(cJSON_GetObjectItem(pl, "type")->valuestring, "bridge");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(pl, "isGateway")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pl, "ipam")), 0);
	cJSON_Delete(root);
	cJSON *list = cni_list(dir, "lnst-", err, sizeof(err));
	assert_int_equal(cJSON_GetArraySize(list), 1);
	assert_string_equal(cJSON_GetArrayItem(list, 0)->valuestring, "lnst-abc123-net1");
	cJSON_Delete(list);
	assert_int_equal(cni_remove(dir, "lnst-abc123-net1", err, sizeof(err)), 0);
	assert_int_equal(cni_remove(dir, "lnst-abc123-net1", err, sizeof(err)), 0);
	assert_int_equal(cni_read(dir, "lnst-abc123-net1", &bridge, &got, err, sizeof(err)), -ENOENT);
	assert_int_equal(cni_remove(dir, "other", err, sizeof(err)), 0);
	list = cni_list("/nonexistent-lnst-dir", "", err, sizeof(err));
	assert_int_equal(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	cJSON_Delete(labels);
	assert_int_equal(rmdir(dir), 0); /* no temporary file was left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uris),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_cni),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
