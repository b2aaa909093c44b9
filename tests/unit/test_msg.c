/* test_msg.c - unit tests for protocol message parsing and building (msg.h):
 * the valid kinds, every rejection msg_parse promises, the builders' output
 * parsed back, and errno names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

static int parse(const char *json, struct msg *m, const char **why)
{
	return msg_parse(json, (uint32_t)strlen(json), m, why);
}

static void test_request(void **state)
{
	(void)state;
	struct msg m;
	const char *why = NULL;
	assert_int_equal(parse("{\"id\":7,\"method\":\"link.add\",\"netns\":\"ns-1\","
			       "\"params\":{\"name\":\"eth0\"}}", &m, &why), 0);
	assert_int_equal(m.kind, MSG_REQUEST);
	assert_int_equal(m.id, 7);
	assert_string_equal(m.method, "link.add");
	assert_string_equal(m.netns, "ns-1");
	assert_true(cJSON_IsObject(m.params));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m.params, "name")), "eth0");
	assert_null(m.result);
	assert_null(m.error);
	assert_null(m.event);
	msg_free(&m);
	assert_null(m.root);

	/* params and netns are optional; params null counts as absent. */
	assert_int_equal(parse("{\"id\":0,\"method\":\"ping\"}", &m, &why), 0);
	assert_int_equal(m.kind, MSG_REQUEST);
	assert_int_equal(m.id, 0);
	assert_null(m.netns);
	assert_null(m.params);
	msg_free(&m);
	assert_int_equal(parse("{\"id\":1,\"method\":\"ping\",\"params\":null}", &m, &why), 0);
	assert_null(m.params);
	msg_free(&m);

	/* Ids stay below 10^15 so that cJSON prints them back exactly. */
	assert_int_equal(parse("{\"id\":999999999999999,\"method\":\"ping\"}", &m, &why), 0);
	assert_int_equal(m.id, 999999999999999LL);
	msg_free(&m);
	assert_int_equal(parse("{\"id\":1000000000000000,\"method\":\"ping\"}", &m, &why), -EBADMSG);
	assert_int_equal(parse("{\"id\":9007199254740991,\"method\":\"ping\"}", &m, &why), -EBADMSG);

	/* Regression: data after the object (a second message) is rejected,
	 * trailing white space is not. */
	assert_int_equal(parse("{\"id\":1,\"method\":\"ping\"}garbage", &m, &why), -EBADMSG);
	assert_string_equal(why, "trailing data after the JSON object");
	assert_int_equal(parse("{\"id\":1,\"method\":\"ping\"}{\"id\":2,\"method\":\"bye\"}", &m, &why), -EBADMSG);
	assert_int_equal(parse("{\"id\":1,\"method\":\"ping\"} \n", &m, &why), 0);
	msg_free(&m);
	/* Regression: an event may carry its own id field (job.output did). */
	assert_int_equal(parse("{\"event\":\"job.output\",\"id\":3,\"data\":\"x\"}", &m, &why), 0);
	assert_int_equal(m.kind, MSG_EVENT);
	msg_free(&m);
	/* Regression: a null result is not a successful reply. */
	assert_int_equal(parse("{\"id\":1,\"result\":null}", &m, &why), -EBADMSG);

	/* A name of exactly MSG_NAME_MAX characters. */
	char buf[256], name[MSG_NAME_MAX + 1];
	memset(name, 'm', MSG_NAME_MAX);
	name[MSG_NAME_MAX] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":1,\"method\":\"%s\",\"netns\":\"%s\"}", name, name);
	assert_int_equal(parse(buf, &m, &why), 0);
	assert_string_equal(m.method, name);
	msg_free(&m);
}

static void test_reply(void **state)
{
	(void)state;
	struct msg m;
	const char *why = NULL;
	assert_int_equal(parse("{\"id\":7,\"result\":{\"ifindex\":3}}", &m, &why), 0);
	assert_int_equal(m.kind, MSG_REPLY);
	assert_int_equal(m.id, 7);
	assert_int_equal(cJSON_GetObjectItem(m.result, "ifindex")->valueint, 3);
	assert_null(m.error);
	assert_null(m.method);
	msg_free(&m);

	assert_int_equal(parse("{\"id\":8,\"error\":{\"code\":\"EEXIST\",\"message\":\"exists\"}}",
			       &m, &why), 0);
	assert_int_equal(m.kind, MSG_REPLY);
	assert_int_equal(m.id, 8);
	assert_null(m.result);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m.error, "code")), "EEXIST");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m.error, "message")), "exists");
	msg_free(&m);
}

static void test_event(void **state)
{
	(void)state;
	struct msg m;
	const char *why = NULL;
	assert_int_equal(parse("{\"event\":\"log\",\"level\":\"info\",\"text\":\"x\"}", &m, &why), 0);
	assert_int_equal(m.kind, MSG_EVENT);
	assert_string_equal(m.event, "log");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m.root, "text")), "x");
	assert_null(m.method);
	msg_free(&m);
}

static void expect_bad(const char *payload, uint32_t len, const char *want)
{
	struct msg m;
	const char *why = NULL;
	int rc = msg_parse(payload, len, &m, &why);
	if (rc != -EBADMSG)
		fail_msg("%.*s: returned %d, want -EBADMSG", (int)len, payload, rc);
	assert_non_null(why);
	if (!strstr(why, want))
		fail_msg("%.*s: reason \"%s\" does not mention \"%s\"", (int)len, payload, why, want);
	/* Nothing is left for the caller to free. */
	assert_null(m.root);
	assert_null(m.method);
}

static void test_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "not json", "not valid JSON" },
		{ "", "not valid JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "\"str\"", "not a JSON object" },
		{ "42", "not a JSON object" },
		{ "null", "not a JSON object" },
		{ "{\"method\":\"ping\"}", "request without a valid id" },
		{ "{\"id\":-1,\"method\":\"ping\"}", "request without a valid id" },
		{ "{\"id\":1.5,\"method\":\"ping\"}", "request without a valid id" },
		{ "{\"id\":1e300,\"method\":\"ping\"}", "request without a valid id" },
		{ "{\"id\":9007199254740992,\"method\":\"ping\"}", "request without a valid id" },
		{ "{\"id\":\"1\",\"method\":\"ping\"}", "request without a valid id" },
		{ "{\"id\":null,\"method\":\"ping\"}", "request without a valid id" },
		{ "{\"id\":1,\"method\":5}", "method is not a valid name" },
		{ "{\"id\":1,\"method\":null}", "method is not a valid name" },
		{ "{\"id\":1,\"method\":\"\"}", "method is not a valid name" },
		{ "{\"id\":1,\"method\":\"a b\"}", "method is not a valid name" },
		{ "{\"id\":1,\"method\":\"x;y\"}", "method is not a valid name" },
		{ "{\"id\":1,\"method\":\"../x\"}", "method is not a valid name" },
		{ "{\"id\":1,\"method\":\"ping\",\"params\":[1]}", "params is not an object" },
		{ "{\"id\":1,\"method\":\"ping\",\"params\":\"x\"}", "params is not an object" },
		{ "{\"id\":1,\"method\":\"ping\",\"params\":0}", "params is not an object" },
		{ "{\"id\":1,\"method\":\"ping\",\"netns\":\"a/b\"}", "netns is not a valid name" },
		{ "{\"id\":1,\"method\":\"ping\",\"netns\":5}", "netns is not a valid name" },
		{ "{\"id\":1,\"method\":\"ping\",\"netns\":\"\"}", "netns is not a valid name" },
		{ "{\"id\":1,\"result\":1,\"error\":{\"code\":\"E\",\"message\":\"m\"}}",
		  "exactly one of result and error" },
		{ "{\"id\":1}", "exactly one of result and error" },
		{ "{\"id\":-3,\"result\":1}", "reply without a valid id" },
		{ "{\"id\":2.5,\"result\":1}", "reply without a valid id" },
		{ "{\"id\":1,\"error\":\"bad\"}", "string code and message" },
		{ "{\"id\":1,\"error\":{\"message\":\"m\"}}", "string code and message" },
		{ "{\"id\":1,\"error\":{\"code\":\"E\"}}", "string code and message" },
		{ "{\"id\":1,\"error\":{\"code\":5,\"message\":\"m\"}}", "string code and message" },
		{ "{\"id\":1,\"error\":{}}", "string code and message" },
		{ "{}", "neither request, reply nor event" },
		{ "{\"foo\":1}", "neither request, reply nor event" },
		{ "{\"event\":5}", "event name is not a valid name" },
		{ "{\"event\":\"a b\"}", "event name is not a valid name" },
		{ "{\"id\":1,\"result\":", "not valid JSON" },
		{ "{\"id\":1,\"method\":\"pi", "not valid JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(bad[i].json, (uint32_t)strlen(bad[i].json), bad[i].why);
}

static void test_invalid_names_length(void **state)
{
	(void)state;
	char buf[256], name[MSG_NAME_MAX + 2];
	memset(name, 'm', MSG_NAME_MAX + 1);
	name[MSG_NAME_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":1,\"method\":\"%s\"}", name);
	expect_bad(buf, (uint32_t)strlen(buf), "method is not a valid name");
	snprintf(buf, sizeof(buf), "{\"id\":1,\"method\":\"ping\",\"netns\":\"%s\"}", name);
	expect_bad(buf, (uint32_t)strlen(buf), "netns is not a valid name");
	snprintf(buf, sizeof(buf), "{\"event\":\"%s\"}", name);
	expect_bad(buf, (uint32_t)strlen(buf), "event name is not a valid name");
}

static void test_garbage_and_length(void **state)
{
	(void)state;
	static const char garbage[] = { '\x00', '\xff', '\xfe', '{', '\x80', '}' };
	expect_bad(garbage, sizeof(garbage), "not valid JSON");
	expect_bad("{\"id\":1,\"result\":1}", 0, "not valid JSON");

	/* msg_parse reads only len bytes: a payload is not NUL-terminated. */
	const char *two = "{\"id\":1,\"result\":1}{\"id\":2";
	struct msg m;
	const char *why;
	assert_int_equal(msg_parse(two, 19, &m, &why), 0);
	assert_int_equal(m.id, 1);
	msg_free(&m);
	expect_bad(two, 18, "not valid JSON");
}

static void test_builders_round_trip(void **state)
{
	(void)state;
	struct msg m;
	const char *why = NULL;
	char *text;

	cJSON *params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "name", "eth0");
	/* cJSON prints numbers with 15 significant digits when that compares
	 * equal within its epsilon, so larger ids would not survive printing. */
	cJSON *req = msg_request(999999999999999LL, "link.add", "ns1", params);
	text = cJSON_PrintUnformatted(req);
	assert_int_equal(parse(text, &m, &why), 0);
	assert_int_equal(m.kind, MSG_REQUEST);
	assert_int_equal(m.id, 999999999999999LL);
	assert_string_equal(m.method, "link.add");
	assert_string_equal(m.netns, "ns1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m.params, "name")), "eth0");
	msg_free(&m);
	free(text);
	cJSON_Delete(req);

	req = msg_request(3, "ping", NULL, NULL);
	text = cJSON_PrintUnformatted(req);
	assert_int_equal(parse(text, &m, &why), 0);
	assert_int_equal(m.id, 3);
	assert_null(m.netns);
	assert_null(m.params);
	assert_null(cJSON_GetObjectItem(m.root, "netns"));
	msg_free(&m);
	free(text);
	cJSON_Delete(req);

	cJSON *rep = msg_reply(5, cJSON_CreateString("ok"));
	text = cJSON_PrintUnformatted(rep);
	assert_int_equal(parse(text, &m, &why), 0);
	assert_int_equal(m.kind, MSG_REPLY);
	assert_int_equal(m.id, 5);
	assert_string_equal(cJSON_GetStringValue(m.result), "ok");
	assert_null(m.error);
	msg_free(&m);
	free(text);
	cJSON_Delete(rep);

	/* No result is still a success reply. */
	rep = msg_reply(6, NULL);
	text = cJSON_PrintUnformatted(rep);
	assert_int_equal(parse(text, &m, &why), 0);
	assert_int_equal(m.kind, MSG_REPLY);
	assert_true(cJSON_IsTrue(m.result));
	msg_free(&m);
	free(text);
	cJSON_Delete(rep);

	cJSON *err = msg_error(7, "EEXIST", "device %s exists in %d namespaces", "eth0", 2);
	text = cJSON_PrintUnformatted(err);
	assert_int_equal(parse(text, &m, &why), 0);
	assert_int_equal(m.kind, MSG_REPLY);
	assert_int_equal(m.id, 7);
	assert_null(m.result);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m.error, "code")), "EEXIST");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m.error, "message")),
			    "device eth0 exists in 2 namespaces");
	msg_free(&m);
	free(text);
	cJSON_Delete(err);

	cJSON *ev = msg_event("job.done");
	cJSON_AddNumberToObject(ev, "job", 4);
	text = cJSON_PrintUnformatted(ev);
	assert_int_equal(parse(text, &m, &why), 0);
	assert_int_equal(m.kind, MSG_EVENT);
	assert_string_equal(m.event, "job.done");
	assert_int_equal(cJSON_GetObjectItem(m.root, "job")->valueint, 4);
	msg_free(&m);
	free(text);
	cJSON_Delete(ev);
}

static void test_error_long_message(void **state)
{
	(void)state;
	char big[4000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cJSON *err = msg_error(1, "EIO", "%s", big);
	char *text = cJSON_PrintUnformatted(err);
	struct msg m;
	const char *why;
	assert_int_equal(parse(text, &m, &why), 0);
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(m.error, "message"));
	assert_non_null(msg);
	assert_true(strlen(msg) > 0 && strlen(msg) < sizeof(big) - 1);
	assert_true(strspn(msg, "x") == strlen(msg));
	msg_free(&m);
	free(text);
	cJSON_Delete(err);
}

static void test_errno_name(void **state)
{
	(void)state;
	assert_string_equal(msg_errno_name(-EEXIST), "EEXIST");
	assert_string_equal(msg_errno_name(EEXIST), "EEXIST");
	assert_string_equal(msg_errno_name(-EINVAL), "EINVAL");
	assert_string_equal(msg_errno_name(-ENODEV), "ENODEV");
	assert_string_equal(msg_errno_name(-EPERM), "EPERM");
	assert_string_equal(msg_errno_name(-ETIMEDOUT), "ETIMEDOUT");
	assert_string_equal(msg_errno_name(-EBADMSG), "EBADMSG");
	assert_string_equal(msg_errno_name(-EOPNOTSUPP), "EOPNOTSUPP");
	assert_string_equal(msg_errno_name(-EXDEV), "EFAIL");
	assert_string_equal(msg_errno_name(0), "EFAIL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_invalid_names_length),
		cmocka_unit_test(test_garbage_and_length),
		cmocka_unit_test(test_builders_round_trip),
		cmocka_unit_test(test_error_long_message),
		cmocka_unit_test(test_errno_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
