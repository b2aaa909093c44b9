/* test_literal.c - unit tests for the parameter literal parser (literal.h):
 * every grammar item, the documented examples, the rejections (code, stray
 * characters, unbalanced input, depth and length limits) and a seeded random
 * run that checks invariants and the JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "literal.h"

/* Compares through cJSON's canonical printing, so types, order and keys count. */
static void assert_json(cJSON *v, const char *text, const char *want_json)
{
	cJSON *want = cJSON_Parse(want_json);
	assert_non_null(want);
	char *got = cJSON_PrintUnformatted(v);
	char *exp = cJSON_PrintUnformatted(want);
	if (strcmp(got, exp))
		fail_msg("%s: got %s, want %s", text, got, exp);
	free(got);
	free(exp);
	cJSON_Delete(want);
}

static void assert_literal(const char *text, const char *want_json)
{
	char err[256];
	cJSON *v = NULL;
	int rc = literal_parse(text, &v, err, sizeof(err));
	if (rc)
		fail_msg("%s: rejected: %s", text, err);
	assert_non_null(v);
	assert_json(v, text, want_json);
	cJSON_Delete(v);
}

static void assert_err(int rc, const char *text, const char *err, const char *want)
{
	if (rc != -EINVAL)
		fail_msg("%s: returned %d, want -EINVAL", text, rc);
	if (strncmp(err, "at offset ", 10))
		fail_msg("%s: error without an offset: %s", text, err);
	if (!strstr(err, want))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", text, err, want);
}

static void assert_rejected(const char *text, const char *want)
{
	char err[256];
	cJSON *v = (cJSON *)&v; /* must be reset to NULL */
	int rc = literal_parse(text, &v, err, sizeof(err));
	if (rc == 0) {
		char *s = cJSON_PrintUnformatted(v);
		fail_msg("%s: accepted as %s", text, s);
	}
	assert_null(v);
	assert_err(rc, text, err, want);
}

static void assert_assignments(const char *text, char sep, const char *want_json)
{
	char err[256];
	cJSON *v = NULL;
	int rc = literal_parse_assignments(text, sep, &v, err, sizeof(err));
	if (rc)
		fail_msg("%s: rejected: %s", text, err);
	assert_json(v, text, want_json);
	cJSON_Delete(v);
}

static void assert_assignments_rejected(const char *text, char sep, const char *want)
{
	char err[256];
	cJSON *v = (cJSON *)&v;
	int rc = literal_parse_assignments(text, sep, &v, err, sizeof(err));
	if (rc == 0)
		fail_msg("%s: accepted", text);
	assert_null(v);
	assert_err(rc, text, err, want);
}

static void test_numbers(void **state)
{
	(void)state;
	assert_literal("5", "5");
	assert_literal("0", "0");
	assert_literal("-2", "-2");
	assert_literal("+7", "7");
	assert_literal("1.5", "1.5");
	assert_literal("-0.25", "-0.25");
	assert_literal("1e3", "1000");
	assert_literal("2.5E-3", "0.0025");
	assert_literal("1e+2", "100");
	assert_literal(".5", "0.5");
	assert_literal("5.", "5");
	assert_literal("007", "7");
	assert_literal("9007199254740992", "9007199254740992");
	assert_literal("-9007199254740992", "-9007199254740992");
	cJSON *v;
	char err[128];
	assert_int_equal(literal_parse("1.5", &v, err, sizeof(err)), 0);
	assert_true(cJSON_IsNumber(v));
	assert_true(v->valuedouble == 1.5);
	cJSON_Delete(v);
}

static void test_numbers_rejected(void **state)
{
	(void)state;
	assert_rejected("9007199254740993", "too large");
	assert_rejected("-99999999999999999999", "too large");
	assert_rejected("1e999", "out of range");
	assert_rejected("-1e999", "out of range");
	assert_rejected("1111111111111111111111111111111111111111111111111111111111111111.0",
			"too long");
}

static void test_not_numbers(void **state)
{
	(void)state;
	/* Words that only resemble numbers stay strings, as written. */
	assert_literal("1.2.3", "\"1.2.3\"");
	assert_literal("1e", "\"1e\"");
	assert_literal("0x10", "\"0x10\"");
	assert_literal("-", "\"-\"");
	assert_literal("1+1", "\"1+1\"");
	assert_literal("inf", "\"inf\"");
	assert_literal("nan", "\"nan\"");
}

static void test_strings(void **state)
{
	(void)state;
	assert_literal("'abc'", "\"abc\"");
	assert_literal("\"abc\"", "\"abc\"");
	assert_literal("''", "\"\"");
	assert_literal("\"it's\"", "\"it's\"");
	assert_literal("'say \"hi\"'", "\"say \\\"hi\\\"\"");
	assert_literal("'a\\\\b\\'c\\\"d\\ne\\tf\\rg'", "\"a\\\\b'c\\\"d\\ne\\tf\\rg\"");
	assert_literal("'x;y$`(z)'", "\"x;y$`(z)\"");
	assert_literal("'h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80'",
		       "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
	assert_literal("'True'", "\"True\"");
	assert_literal("'5'", "\"5\"");
	assert_literal("'a\tb'", "\"a\\tb\"");
}

static void test_strings_rejected(void **state)
{
	(void)state;
	assert_rejected("'abc", "unterminated string");
	assert_rejected("\"abc", "unterminated string");
	assert_rejected("'abc\"", "unterminated string");
	assert_rejected("'abc\\'", "unterminated string");
	assert_rejected("'abc\\", "unterminated string");
	assert_rejected("'", "unterminated string");
	assert_rejected("'line\nbreak'", "unterminated string");
	assert_rejected("'\\x41'", "unknown escape");
	assert_rejected("'\\u0041'", "unknown escape");
	assert_rejected("'\xff'", "invalid UTF-8");
	assert_rejected("'\xc3'", "invalid UTF-8");
	assert_rejected("'\xc0\xaf'", "invalid UTF-8");      /* overlong '/' */
	assert_rejected("'\xe0\x80\xaf'", "invalid UTF-8");  /* overlong '/' */
	assert_rejected("'\xf0\x80\x80\xaf'", "invalid UTF-8"); /* overlong '/' */
	assert_rejected("'\xe2\x82'", "invalid UTF-8");      /* cut short */
	assert_rejected("'\xed\xa0\x80'", "invalid UTF-8");  /* surrogate */
	assert_rejected("'\xf4\x90\x80\x80'", "invalid UTF-8"); /* above U+10FFFF */
	assert_rejected("'a\x01'", "control character");
}

static void test_keywords(void **state)
{
	(void)state;
	assert_literal("true", "true");
	assert_literal("True", "true");
	assert_literal("false", "false");
	assert_literal("False", "false");
	assert_literal("None", "null");
	assert_literal("nil", "null");
	assert_literal("null", "null");
	assert_literal("TRUE", "\"TRUE\"");
	assert_literal("none", "\"none\"");
	assert_literal("Truely", "\"Truely\"");
}

static void test_lists(void **state)
{
	(void)state;
	assert_literal("[]", "[]");
	assert_literal("[ ]", "[]");
	assert_literal("[1, 2, 3]", "[1,2,3]");
	assert_literal("[1,2,]", "[1,2]");
	assert_literal("[[1],[2,[3]]]", "[[1],[2,[3]]]");
	assert_literal("[1, 'a', True, None, eth0, 1.5]", "[1,\"a\",true,null,\"eth0\",1.5]");
	assert_literal(" \t[ 1 ,\n 2 ] \n", "[1,2]");
	assert_literal("[{}]", "[{}]");
}

static void test_tuples(void **state)
{
	(void)state;
	assert_literal("()", "[]");
	assert_literal("(1, 2)", "[1,2]");
	assert_literal("(1,)", "[1]");
	assert_literal("(1,2,)", "[1,2]");
	assert_literal("('tcp_stream','udp_stream')", "[\"tcp_stream\",\"udp_stream\"]");
	/* As in Python, parentheses around one value without a comma only group. */
	assert_literal("(1)", "1");
	assert_literal("((1, 2))", "[1,2]");
	assert_literal("[(1, 2), (3,)]", "[[1,2],[3]]");
}

static void test_dicts(void **state)
{
	(void)state;
	assert_literal("{}", "{}");
	assert_literal("{'k': 1, \"k2\": [2]}", "{\"k\":1,\"k2\":[2]}");
	assert_literal("{k: v}", "{\"k\":\"v\"}");
	assert_literal("{k = 1, j = 'x'}", "{\"k\":1,\"j\":\"x\"}");
	assert_literal("{'a': 1,}", "{\"a\":1}");
	assert_literal("{1: 'a', -2: 'b', 1.5: 'c'}", "{\"1\":\"a\",\"-2\":\"b\",\"1.5\":\"c\"}");
	assert_literal("{ip: 2001:db8::1/64}", "{\"ip\":\"2001:db8::1/64\"}");
	assert_literal("{'2001:db8::1': up}", "{\"2001:db8::1\":\"up\"}");
	assert_literal("{a:b:c}", "{\"a\":\"b:c\"}");
	assert_literal("{eth0.100: {mtu: 9000}}", "{\"eth0.100\":{\"mtu\":9000}}");
	assert_literal("{'': 0}", "{\"\":0}");
	assert_literal("{z: 1, a: 2}", "{\"z\":1,\"a\":2}");
}

static void test_dicts_rejected(void **state)
{
	(void)state;
	assert_rejected("{'a': 1, 'a': 2}", "duplicate key 'a'");
	assert_rejected("{a: 1, b: 2, a = 3}", "at offset 13: duplicate key 'a'");
	assert_rejected("{'a' 1}", "expected ':' or '=' after dict key");
	assert_rejected("{[1]: 2}", "expected a dict key");
	assert_rejected("{(1): 2}", "expected a dict key");
	assert_rejected("{1, 2}", "expected ':' or '='");
	assert_rejected("{,}", "expected a dict key");
	assert_rejected("{a: 1 b: 2}", "expected ',' or '}' in dict");
	assert_rejected("{a:}", "expected a value");
	assert_rejected("{f(): 1}", "looks like code");
}

static void test_bare_words(void **state)
{
	(void)state;
	assert_literal("198.51.100.1/24", "\"198.51.100.1/24\"");
	assert_literal("198.51.100.1", "\"198.51.100.1\"");
	assert_literal("2001:db8::1/64", "\"2001:db8::1/64\"");
	assert_literal("::1", "\"::1\"");
	assert_literal("eth0", "\"eth0\"");
	assert_literal("tcp_stream", "\"tcp_stream\"");
	assert_literal("/usr/bin/iperf3", "\"/usr/bin/iperf3\"");
	assert_literal("user@host", "\"user@host\"");
	assert_literal("50%", "\"50%\"");
	assert_literal("round-robin", "\"round-robin\"");
	assert_literal("  eth0  ", "\"eth0\"");
}

static void test_examples(void **state)
{
	(void)state;
	assert_assignments("perf_iterations=1;perf_tool_cpu=[0,1];multi_dev_interrupt_config="
			   "{'host1':{'eth0':{'cpus':[0],'policy':'round-robin'}}}",
			   ';',
			   "{\"perf_iterations\":1,\"perf_tool_cpu\":[0,1],"
			   "\"multi_dev_interrupt_config\":{\"host1\":{\"eth0\":{\"cpus\":[0],"
			   "\"policy\":\"round-robin\"}}}}");

	static const struct {
		const char *text, *key, *json;
	} one[] = {
		{ "perf_tests=('tcp_stream','udp_stream')", "perf_tests",
		  "[\"tcp_stream\",\"udp_stream\"]" },
		{ "net_ipv4=198.51.100.0/24", "net_ipv4", "\"198.51.100.0/24\"" },
		{ "ping_count=3", "ping_count", "3" },
		{ "offload_combinations=[{'gro':'off'}]", "offload_combinations",
		  "[{\"gro\":\"off\"}]" },
		{ "flag=True", "flag", "true" },
		{ "  spaced  =  [1, 2]  ", "spaced", "[1,2]" },
		{ "_x9=''", "_x9", "\"\"" },
	};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		char err[256], *key = NULL;
		cJSON *v = NULL;
		int rc = literal_parse_assignment(one[i].text, &key, &v, err, sizeof(err));
		if (rc)
			fail_msg("%s: rejected: %s", one[i].text, err);
		assert_string_equal(key, one[i].key);
		assert_json(v, one[i].text, one[i].json);
		free(key);
		cJSON_Delete(v);
	}
}

static void test_code_rejected(void **state)
{
	(void)state;
	assert_rejected("__import__('os').system('id')", "at offset 0: '__import__(' looks like code");
	assert_rejected("os.execute(\"x\")", "'os.execute(' looks like code");
	assert_rejected("eval (\"1\")", "looks like code");
	assert_rejected("[1, os.system('x')]", "at offset 4: 'os.system(' looks like code");
	assert_rejected("{k: f(1)}", "looks like code");
	assert_rejected("print()", "looks like code");
	assert_rejected("io.popen('id'):read('*a')", "looks like code");
	assert_rejected("os.execute 'id'", "unexpected ''' after the value");
	assert_rejected("'a'.join(x)", "unexpected '.' after the value");
	assert_rejected("x[0]", "unexpected '[' after the value");
	assert_rejected("1 + 1", "unexpected '+' after the value");
	assert_rejected("2*3", "unexpected '*'");
	assert_rejected("lambda: 0", "unexpected '0'");
	assert_rejected("'a' 'b'", "unexpected ''' after the value");
}

static void test_stray_rejected(void **state)
{
	(void)state;
	assert_rejected(";", "at offset 0: expected a value, found ';'");
	assert_rejected("$HOME", "found '$'");
	assert_rejected("`id`", "found '`'");
	assert_rejected("1; rm -rf /", "at offset 1: unexpected ';' after the value");
	assert_rejected("eth0 && id", "unexpected '&'");
	assert_rejected("a|b", "unexpected '|'");
	assert_rejected("", "at offset 0: expected a value, found end of input");
	assert_rejected("   ", "at offset 3: expected a value, found end of input");
	assert_rejected("\x01", "found byte 0x01");
	assert_rejected("\xc3\xa9", "found byte 0xc3");
	assert_rejected("#comment", "found '#'");
	assert_rejected("-- x", "unexpected 'x'");
}

static void test_unbalanced_rejected(void **state)
{
	(void)state;
	assert_rejected("[1, 2", "at offset 0: '[' is never closed");
	assert_rejected("[1, 2,", "'[' is never closed");
	assert_rejected("[", "'[' is never closed");
	assert_rejected("[1, [2]", "at offset 0: '[' is never closed");
	assert_rejected("(1, 2", "'(' is never closed");
	assert_rejected("{'a': 1", "'{' is never closed");
	assert_rejected("{'a'", "'{' is never closed");
	assert_rejected("{", "'{' is never closed");
	assert_rejected("[1, 2]]", "at offset 6: unexpected ']' after the value");
	assert_rejected("]", "found ']'");
	assert_rejected(")", "found ')'");
	assert_rejected("}", "found '}'");
	assert_rejected("[1, 2)", "expected ',' or ']' in list, found ')'");
	assert_rejected("(1, 2]", "expected ',' or ')' in tuple, found ']'");
	assert_rejected("[1, 2 3]", "at offset 6: expected ',' or ']' in list, found '3'");
	assert_rejected("[1,,2]", "at offset 3: expected a value, found ','");
	assert_rejected("[,]", "expected a value, found ','");
	assert_rejected("(,)", "expected a value, found ','");
}

/* '[' * n then ']' * n, or the same with dicts {a:...}. */
static char *nested(int n, int dict)
{
	size_t len = dict ? (size_t)n * 4 + 1 : (size_t)n * 2;
	char *s = malloc(len + 1), *p = s;
	assert_non_null(s);
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s", dict ? "{a:" : "[");
	if (dict)
		*p++ = '1';
	for (int i = 0; i < n; i++)
		*p++ = dict ? '}' : ']';
	*p = '\0';
	return s;
}

static void test_depth(void **state)
{
	(void)state;
	char err[256], *s;
	cJSON *v;

	s = nested(LITERAL_MAX_DEPTH, 0);
	assert_int_equal(literal_parse(s, &v, err, sizeof(err)), 0);
	cJSON_Delete(v);
	free(s);

	s = nested(LITERAL_MAX_DEPTH + 1, 0);
	assert_rejected(s, "at offset 32: nesting deeper than 32 levels");
	free(s);

	s = nested(LITERAL_MAX_DEPTH, 1);
	assert_int_equal(literal_parse(s, &v, err, sizeof(err)), 0);
	cJSON_Delete(v);
	free(s);

	s = nested(LITERAL_MAX_DEPTH + 1, 1);
	assert_rejected(s, "nesting deeper than 32 levels");
	free(s);

	/* Far beyond the limit: an error, not a stack overflow. */
	s = nested(200000, 0);
	assert_rejected(s, "nesting deeper");
	free(s);
}

static void test_length_limit(void **state)
{
	(void)state;
	char err[256];
	cJSON *v;
	char *s = malloc(LITERAL_MAX_LEN + 2);
	assert_non_null(s);

	/* A quoted string of exactly the maximum length is accepted. */
	memset(s, 'a', LITERAL_MAX_LEN);
	s[0] = s[LITERAL_MAX_LEN - 1] = '\'';
	s[LITERAL_MAX_LEN] = '\0';
	assert_int_equal(literal_parse(s, &v, err, sizeof(err)), 0);
	assert_int_equal(strlen(cJSON_GetStringValue(v)), LITERAL_MAX_LEN - 2);
	cJSON_Delete(v);

	s[LITERAL_MAX_LEN - 1] = 'a';
	s[LITERAL_MAX_LEN] = '\'';
	s[LITERAL_MAX_LEN + 1] = '\0';
	assert_rejected(s, "input longer than");

	cJSON *o;
	assert_int_equal(literal_parse_assignments(s, ';', &o, err, sizeof(err)), -EINVAL);
	assert_null(o);
	free(s);
}

static void test_error_buffer(void **state)
{
	(void)state;
	cJSON *v;
	char err[8];
	char *key;

	assert_int_equal(literal_parse("[1 2]", &v, NULL, 0), -EINVAL);
	assert_null(v);
	memset(err, 'x', sizeof(err));
	assert_int_equal(literal_parse("[1 2]", &v, err, 0), -EINVAL);
	assert_int_equal(err[0], 'x');
	assert_int_equal(literal_parse("[1 2]", &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "at offs");
	assert_int_equal(literal_parse(NULL, &v, err, sizeof(err)), -EINVAL);
	assert_null(v);
	assert_int_equal(literal_parse_assignments(NULL, ';', &v, NULL, 0), -EINVAL);
	assert_int_equal(literal_parse_assignment(NULL, &key, &v, NULL, 0), -EINVAL);
	assert_null(key);

	/* Success clears a stale message. */
	char big[64] = "stale";
	assert_int_equal(literal_parse("1", &v, big, sizeof(big)), 0);
	assert_string_equal(big, "");
	cJSON_Delete(v);
}

static void test_assignments(void **state)
{
	(void)state;
	assert_assignments("", ';', "{}");
	assert_assignments("  ", ';', "{}");
	assert_assignments(";;;", ';', "{}");
	assert_assignments(";;a=1;;b=2;", ';', "{\"a\":1,\"b\":2}");
	assert_assignments("a=1; b = two ;c=[1, 2]", ';', "{\"a\":1,\"b\":\"two\",\"c\":[1,2]}");
	assert_assignments("a='x;y';b=\"p;q\"", ';', "{\"a\":\"x;y\",\"b\":\"p;q\"}");
	assert_assignments("a={'k;': [1, ';']};b=(1,2)", ';',
			   "{\"a\":{\"k;\":[1,\";\"]},\"b\":[1,2]}");
	assert_assignments("net=198.51.100.0/24;v6=2001:db8::/64", ';',
			   "{\"net\":\"198.51.100.0/24\",\"v6\":\"2001:db8::/64\"}");
	assert_assignments("a=1,b=[1,2],c=(3,)", ',', "{\"a\":1,\"b\":[1,2],\"c\":[3]}");
	assert_assignments("a=1\nb=2\n", '\n', "{\"a\":1,\"b\":2}");
	/* A separator that is also a bare-word character splits outside brackets only. */
	assert_assignments("a=x:b=[y:z]", ':', "{\"a\":\"x\",\"b\":[\"y:z\"]}");
	assert_assignments("z=1;a=2;m=3", ';', "{\"z\":1,\"a\":2,\"m\":3}");
}

static void test_assignments_rejected(void **state)
{
	(void)state;
	assert_assignments_rejected("a=1;b=2;a=3", ';', "at offset 8: duplicate parameter 'a'");
	assert_assignments_rejected("x=1;a=1;b=2;b=3;a=4", ';', "at offset 12: duplicate parameter 'b'");
	assert_assignments_rejected("a=1;b=1;a=2;b=2", ';', "at offset 8: duplicate parameter 'a'");
	assert_assignments_rejected("1a=1", ';', "at offset 0: invalid parameter name '1a'");
	assert_assignments_rejected("a=1;a-b=1", ';', "at offset 4: invalid parameter name 'a-b'");
	assert_assignments_rejected("a.b=1", ';', "invalid parameter name 'a.b'");
	assert_assignments_rejected("a b=1", ';', "invalid parameter name 'a b'");
	assert_assignments_rejected("=1", ';', "invalid parameter name ''");
	assert_assignments_rejected("abc", ';', "expected key=value, found 'abc'");
	assert_assignments_rejected("a=1;abc;b=2", ';', "at offset 4: expected key=value, found 'abc'");
	assert_assignments_rejected("a=;b=1", ';', "at offset 2: expected a value, found ';'");
	assert_assignments_rejected("a=", ';', "expected a value, found end of input");
	assert_assignments_rejected("a=:b=1", ':', "at offset 2: expected a value, found ':'");
	assert_assignments_rejected("a=1 2", ';', "at offset 4: unexpected '2' after the value of 'a'");
	assert_assignments_rejected("a=1;b=[1 2]", ';', "at offset 9: expected ',' or ']' in list");
	assert_assignments_rejected("a=__import__('os').system('id')", ';', "looks like code");
	assert_assignments_rejected("a=os.execute(\"x\")", ';', "at offset 2: 'os.execute(' looks");
	assert_assignments_rejected("a='x;y", ';', "at offset 2: unterminated string");
	assert_assignments_rejected("a=[1;2]", ';', "expected ',' or ']' in list, found ';'");
	assert_assignments_rejected("a=$(id)", ';', "found '$'");
	assert_assignments_rejected("a=1", '=', "invalid separator '='");
	assert_assignments_rejected("a=1", 'x', "invalid separator 'x'");
	assert_assignments_rejected("a=1", '\0', "invalid separator byte 0x00");
	assert_assignments_rejected("a=1", '[', "invalid separator '['");
}

static void test_assignment_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "noequals", "expected key=value" },
		{ "=5", "invalid parameter name" },
		{ "k=", "expected a value" },
		{ "9k=1", "invalid parameter name '9k'" },
		{ "k=os.execute('x')", "at offset 2: 'os.execute(' looks like code" },
		{ "k=1;j=2", "at offset 3: unexpected ';' after the value of 'k'" },
		{ "k=[1,", "'[' is never closed" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256], *key = (char *)&key;
		cJSON *v = (cJSON *)&v;
		int rc = literal_parse_assignment(bad[i].text, &key, &v, err, sizeof(err));
		assert_null(key);
		assert_null(v);
		assert_err(rc, bad[i].text, err, bad[i].want);
	}
}

/* Seeded random inputs from syntax-heavy characters: the parser must either
 * return a value whose JSON text parses back to the same value, or fail with
 * an offset inside the input. */
static void test_random(void **state)
{
	(void)state;
	static const char alphabet[] = "[](){},:=;'\"\\ \t\nab0129.-+eE_/@%$`()x";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int accepted = 0;
	for (int iter = 0; iter < 200000; iter++) {
		char text[48], err[256];
		size_t n;
		cJSON *v;
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		n = seed % sizeof(text);
		for (size_t i = 0; i < n; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			text[i] = alphabet[seed % (sizeof(alphabet) - 1)];
		}
		text[n] = '\0';
		int rc = literal_parse(text, &v, err, sizeof(err));
		if (rc) {
			size_t off;
			assert_int_equal(rc, -EINVAL);
			assert_null(v);
			if (sscanf(err, "at offset %zu:", &off) != 1 || off > n)
				fail_msg("%s: bad error \"%s\"", text, err);
			continue;
		}
		accepted++;
		char *json = cJSON_PrintUnformatted(v);
		cJSON *back;
		if (literal_parse(json, &back, err, sizeof(err)))
			fail_msg("%s: printed as %s, which does not parse back: %s", text, json, err);
		if (!cJSON_Compare(v, back, 1))
			fail_msg("%s: round trip through %s changed the value", text, json);
		free(json);
		cJSON_Delete(back);
		cJSON_Delete(v);

		rc = literal_parse_assignments(text, ';', &v, err, sizeof(err));
		assert_true(rc == 0 ? v != NULL : v == NULL && !strncmp(err, "at offset ", 10));
		cJSON_Delete(v);
	}
	/* The alphabet must produce some valid values for the round trip to matter. */
	assert_true(accepted > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_numbers_rejected),
		cmocka_unit_test(test_not_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_strings_rejected),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_tuples),
		cmocka_unit_test(test_dicts),
		cmocka_unit_test(test_dicts_rejected),
		cmocka_unit_test(test_bare_words),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_code_rejected),
		cmocka_unit_test(test_stray_rejected),
		cmocka_unit_test(test_unbalanced_rejected),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_assignments),
		cmocka_unit_test(test_assignments_rejected),
		cmocka_unit_test(test_assignment_rejected),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
