/* test_jsonw.c - unit tests for jsonw_print (jsonw.h): its text for every
 * kind of value is what cJSON_PrintUnformatted writes, or (for numbers that
 * are not integers) reads back to the same tree; escapes, integers at the
 * edges of exactness, and malformed trees refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

/* jsonw's text of the tree parsed from json, checked against cJSON's own. */
static void same_as_cjson(const char *json)
{
	cJSON *t = cJSON_Parse(json);
	assert_non_null(t);
	size_t len = 0;
	char *ours = jsonw_print(t, &len);
	char *theirs = cJSON_PrintUnformatted(t);
	assert_non_null(ours);
	assert_string_equal(ours, theirs);
	assert_int_equal(len, strlen(ours));
	free(ours);
	cJSON_free(theirs);
	cJSON_Delete(t);
}

static void test_like_cjson(void **state)
{
	(void)state;
	same_as_cjson("{}");
	same_as_cjson("[]");
	same_as_cjson("[null,true,false,0,1,-1,42,2147483647,-2147483648,\"\",[],{}]");
	same_as_cjson("{\"id\":7,\"result\":{\"ifindex\":12,\"name\":\"b1\",\"peer\":{\"ifindex\":11}}}");
	same_as_cjson("{\"event\":\"dev.created\",\"dev\":{\"flags\":[\"broadcast\",\"multicast\"],\"up\":false,"
		      "\"ips\":[{\"address\":\"2001:db8::1\",\"prefixlen\":64}],\"stats\":{\"rx_bytes\":0}}}");
	/* escapes: quote, backslash, the named controls, other controls, UTF-8 kept */
	same_as_cjson("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f é ✓\"]");
	same_as_cjson("{\"k\\ney\\\"\":\"v\"}");
	same_as_cjson("[0.5,-0.25,0.1,1e-7,123.456,3.141592653589793]");
}

/* Integers: exact as long as a double holds them; beyond that as cJSON,
 * digits that read back to the same double. */
static void test_integers(void **state)
{
	(void)state;
	const double v[] = { 0, -0.0, 9, 10, -10, 4294967295.0, 1e15, 9007199254740992.0, -9007199254740992.0,
			     18446744073709551616.0, 1e300, -1e300 };
	const char *text[] = { "0", "0", "9", "10", "-10", "4294967295", "1000000000000000", "9007199254740992",
			       "-9007199254740992", NULL, NULL, NULL };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cJSON *n = cJSON_CreateNumber(v[i]);
		char *s = jsonw_print(n, NULL);
		assert_non_null(s);
		if (text[i])
			assert_string_equal(s, text[i]);
		assert_true(strtod(s, NULL) == v[i]);
		free(s);
		cJSON_Delete(n);
	}
	cJSON *n = cJSON_CreateNumber(NAN);
	char *s = jsonw_print(n, NULL);
	assert_string_equal(s, "null");
	free(s);
	cJSON_Delete(n);
}

/* Numbers that are not integers read back to the same double. */
static void test_fractions_round_trip(void **state)
{
	(void)state;
	const double v[] = { 0.1, 1.0 / 3.0, 2.5e-300, 123456789.123456789, -7.000000000000001 };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cJSON *n = cJSON_CreateNumber(v[i]);
		char *s = jsonw_print(n, NULL);
		assert_non_null(s);
		assert_true(strtod(s, NULL) == v[i]);
		free(s);
		cJSON_Delete(n);
	}
}

static void test_raw_and_malformed(void **state)
{
	(void)state;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddRawToObject(o, "r", "[1,2]");
	char *s = jsonw_print(o, NULL);
	assert_string_equal(s, "{\"r\":[1,2]}");
	free(s);
	/* an object member without a name cannot be written */
	cJSON *bad = cJSON_CreateObject();
	cJSON_AddItemToArray(bad, cJSON_CreateNull());
	assert_null(jsonw_print(bad, NULL));
	cJSON_Delete(bad);
	cJSON_Delete(o);
	assert_null(jsonw_print(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_like_cjson),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_fractions_round_trip),
		cmocka_unit_test(test_raw_and_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
