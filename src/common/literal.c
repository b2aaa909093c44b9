/* literal.c - strict parser for recipe parameter values (literal.h).
 *
 * Why this exists: upstream LNST turned parameter values into Python objects,
 * and anything that evaluates a value can be made to run code. Here a value is
 * only ever data: a small recursive descent parser builds a cJSON tree and
 * nothing is looked up, evaluated or called. A name directly followed by '('
 * is rejected ("looks like code") so a pasted expression fails loudly instead
 * of turning into a string.
 *
 * Safety, since values come from users and containers and will be fuzzed: the
 * input length is bounded (LITERAL_MAX_LEN) before parsing starts, every read
 * is checked against that length, recursion stops at LITERAL_MAX_DEPTH, and
 * duplicate keys are found by sorting, so no input crashes the parser, makes
 * it read out of bounds or makes it quadratic.
 */
#include "literal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_TEXT_MAX 64           /* longest number spelling accepted */
#define INT_EXACT_MAX (1ull << 53) /* larger integers are not exact as doubles */
#define SNIPPET_MAX 40            /* input quoted in error messages */

struct lit {
	const char *s;
	size_t len;
	size_t pos;
	unsigned depth;
	char stop; /* item separator, honoured outside brackets (0: none) */
	char *err;
	size_t errlen;
};

/* Keys seen in one dict or assignment list, each with its offset. */
struct key_pos {
	char *key;
	size_t off;
};

struct key_list {
	struct key_pos *v;
	size_t n, cap;
};

static int parse_value(struct lit *p, cJSON **out);

__attribute__((format(printf, 3, 4))) static int fail(struct lit *p, size_t off, const char *fmt, ...)
{
	if (p->err && p->errlen) {
		int n = snprintf(p->err, p->errlen, "at offset %zu: ", off);
		if (n >= 0 && (size_t)n < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static int oom(struct lit *p)
{
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "out of memory");
	return -ENOMEM;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static int is_stop(const struct lit *p, char c)
{
	return p->depth == 0 && p->stop && c == p->stop;
}

/* Bare word characters; in dict-key position ':' ends the word. */
static int is_word(const struct lit *p, char c, int key)
{
	if (is_stop(p, c) || (key && c == ':'))
		return 0;
	return is_ident(c) || c == '.' || c == ':' || c == '/' || c == '@' || c == '%' || c == '+' ||
	       c == '-';
}

static char peek(const struct lit *p)
{
	return p->pos < p->len ? p->s[p->pos] : '\0';
}

static void skip_ws(struct lit *p)
{
	while (p->pos < p->len && is_space(p->s[p->pos]) && !is_stop(p, p->s[p->pos]))
		p->pos++;
}

static const char *char_name(char c, char buf[16])
{
	unsigned char u = (unsigned char)c;
	if (u > 0x20 && u < 0x7f)
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", u);
	return buf;
}

static const char *describe(const struct lit *p, char buf[16])
{
	return p->pos < p->len ? char_name(p->s[p->pos], buf) : "end of input";
}

/* Up to SNIPPET_MAX bytes of s for an error message, anything but printable
 * ASCII replaced by '?'. */
static const char *snippet(const char *s, size_t n, char buf[SNIPPET_MAX + 4])
{
	size_t k = n > SNIPPET_MAX ? SNIPPET_MAX : n;
	for (size_t i = 0; i < k; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + k, n > k ? "..." : "");
	return buf;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

static int key_list_add(struct lit *p, struct key_list *l, char *key, size_t off)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct key_pos *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return oom(p);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].key = key;
	l->v[l->n].off = off;
	l->n++;
	return 0;
}

static void key_list_free(struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
}

static int key_pos_cmp(const void *a, const void *b)
{
	const struct key_pos *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Fails on the first repetition of a key, in input order. */
static int key_list_check(struct lit *p, struct key_list *l, const char *what)
{
	const struct key_pos *dup = NULL;
	char buf[SNIPPET_MAX + 4];
	if (l->n < 2)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), key_pos_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (!strcmp(l->v[i - 1].key, l->v[i].key) && (!dup || l->v[i].off < dup->off))
			dup = &l->v[i];
	if (dup)
		return fail(p, dup->off, "duplicate %s '%s'", what,
			    snippet(dup->key, strlen(dup->key), buf));
	return 0;
}

/* A quoted string at p->pos; *out is malloc'd. */
static int parse_string(struct lit *p, char **out)
{
	size_t start = p->pos, end = start + 1, n = 0, i;
	char q = p->s[start], name[16], *buf;
	while (end < p->len && p->s[end] != q && p->s[end] != '\n')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len || p->s[end] != q)
		return fail(p, start, "unterminated string");
	buf = malloc(end - start);
	if (!buf)
		return oom(p);
	for (i = start + 1; i < end;) {
		char c = p->s[i];
		if (c == '\\') {
			switch (p->s[i + 1]) {
			case '\\': c = '\\'; break;
			case '\'': c = '\''; break;
			case '"': c = '"'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			default:
				free(buf);
				return fail(p, i, "unknown escape \\ followed by %s in string",
					    char_name(p->s[i + 1], name));
			}
			buf[n++] = c;
			i += 2;
		} else if ((unsigned char)c >= 0x80) {
			size_t k = utf8_len((const unsigned char *)p->s + i, end - i);
			if (!k) {
				free(buf);
				return fail(p, i, "invalid UTF-8 in string");
			}
			memcpy(buf + n, p->s + i, k);
			n += k;
			i += k;
		} else if ((unsigned char)c < 0x20 && c != '\t') {
			free(buf);
			return fail(p, i, "control character %s in string", char_name(c, name));
		} else {
			buf[n++] = c;
			i++;
		}
	}
	buf[n] = '\0';
	p->pos = end + 1;
	*out = buf;
	return 0;
}

/* A word directly followed by '(' is a call: f(x), os.execute("x"). */
static int check_call(struct lit *p, size_t start, size_t n)
{
	size_t i = start + n;
	char buf[SNIPPET_MAX + 4];
	while (i < p->len && is_space(p->s[i]))
		i++;
	if (i < p->len && p->s[i] == '(')
		return fail(p, start, "'%s(' looks like code, not a literal",
			    snippet(p->s + start, n, buf));
	return 0;
}

/* 1 if w is [+-]?(D+(.D*)?|.D+)([eE][+-]?D+)?; *is_int when neither '.' nor exponent. */
static int number_syntax(const char *w, size_t n, int *is_int)
{
	size_t i = 0, digits = 0, exp = 0;
	*is_int = 1;
	if (i < n && (w[i] == '+' || w[i] == '-'))
		i++;
	for (; i < n && is_digit(w[i]); i++)
		digits++;
	if (i < n && w[i] == '.') {
		*is_int = 0;
		for (i++; i < n && is_digit(w[i]); i++)
			digits++;
	}
	if (!digits)
		return 0;
	if (i < n && (w[i] == 'e' || w[i] == 'E')) {
		*is_int = 0;
		i++;
		if (i < n && (w[i] == '+' || w[i] == '-'))
			i++;
		for (; i < n && is_digit(w[i]); i++)
			exp++;
		if (!exp)
			return 0;
	}
	return i == n;
}

static int make_number(struct lit *p, size_t start, size_t n, int is_int, cJSON **out)
{
	const char *w = p->s + start;
	char snip[SNIPPET_MAX + 4];
	double v;
	if (n >= NUM_TEXT_MAX)
		return fail(p, start, "number '%s' is too long", snippet(w, n, snip));
	if (is_int) {
		uint64_t u = 0;
		size_t i = w[0] == '+' || w[0] == '-';
		for (; i < n; i++) {
			u = u * 10 + (uint64_t)(w[i] - '0');
			if (u > INT_EXACT_MAX)
				return fail(p, start, "integer '%s' is too large (limit 2^53)",
					    snippet(w, n, snip));
		}
		v = w[0] == '-' ? -(double)u : (double)u;
	} else {
		/* strtod follows the locale's decimal point. */
		const char *dp = localeconv()->decimal_point;
		size_t dpl = strlen(dp), k = 0;
		char buf[NUM_TEXT_MAX + 4], *end;
		if (dpl == 0 || dpl > 4) {
			dp = ".";
			dpl = 1;
		}
		for (size_t i = 0; i < n; i++) {
			if (w[i] == '.') {
				memcpy(buf + k, dp, dpl);
				k += dpl;
			} else {
				buf[k++] = w[i];
			}
		}
		buf[k] = '\0';
		v = strtod(buf, &end);
		if (*end || !isfinite(v))
			return fail(p, start, "number '%s' is out of range", snippet(w, n, snip));
	}
	*out = cJSON_CreateNumber(v);
	return *out ? 0 : oom(p);
}

static int word_is(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && !memcmp(w, kw, n);
}

/* A bare word in value position: keyword, number or string. */
static int parse_word(struct lit *p, cJSON **out)
{
	size_t start = p->pos, n = 0;
	const char *w = p->s + start;
	int is_int, rc;
	while (start + n < p->len && is_word(p, w[n], 0))
		n++;
	rc = check_call(p, start, n);
	if (rc)
		return rc;
	p->pos += n;
	if (word_is(w, n, "true") || word_is(w, n, "True")) {
		*out = cJSON_CreateTrue();
	} else if (word_is(w, n, "false") || word_is(w, n, "False")) {
		*out = cJSON_CreateFalse();
	} else if (word_is(w, n, "None") || word_is(w, n, "nil") || word_is(w, n, "null")) {
		*out = cJSON_CreateNull();
	} else if (number_syntax(w, n, &is_int)) {
		return make_number(p, start, n, is_int, out);
	} else {
		char *s = strndup(w, n);
		*out = s ? cJSON_CreateString(s) : NULL;
		free(s);
	}
	return *out ? 0 : oom(p);
}

static int enter(struct lit *p)
{
	if (p->depth >= LITERAL_MAX_DEPTH)
		return fail(p, p->pos, "nesting deeper than %d levels", LITERAL_MAX_DEPTH);
	p->depth++;
	p->pos++;
	return 0;
}

/* [a, b] or (a, b); a tuple of one value without a comma, (a), is just a. */
static int parse_seq(struct lit *p, char close, cJSON **out)
{
	const char *what = close == ']' ? "list" : "tuple";
	size_t open = p->pos;
	int comma = 0, rc;
	char name[16];
	cJSON *arr, *item;
	rc = enter(p);
	if (rc)
		return rc;
	arr = cJSON_CreateArray();
	if (!arr) {
		rc = oom(p);
		goto out;
	}
	for (;;) {
		skip_ws(p);
		if (peek(p) == close)
			break;
		if (p->pos >= p->len) {
			rc = fail(p, open, "'%c' is never closed", p->s[open]);
			goto out;
		}
		rc = parse_value(p, &item);
		if (rc)
			goto out;
		if (!cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			rc = oom(p);
			goto out;
		}
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			comma = 1;
		} else if (peek(p) == close) {
			break;
		} else if (p->pos >= p->len) {
			rc = fail(p, open, "'%c' is never closed", p->s[open]);
			goto out;
		} else {
			rc = fail(p, p->pos, "expected ',' or '%c' in %s, found %s", close, what,
				  describe(p, name));
			goto out;
		}
	}
	p->pos++;
	if (close == ')' && !comma && cJSON_GetArraySize(arr) == 1)
		*out = cJSON_DetachItemFromArray(arr, 0);
	else {
		*out = arr;
		arr = NULL;
	}
out:
	p->depth--;
	cJSON_Delete(arr);
	return rc;
}

/* A dict key: quoted string or bare word (numbers stay as written). */
static int parse_key(struct lit *p, char **key)
{
	size_t start = p->pos, n = 0;
	char name[16];
	int rc;
	if (peek(p) == '\'' || peek(p) == '"')
		return parse_string(p, key);
	while (start + n < p->len && is_word(p, p->s[start + n], 1))
		n++;
	if (!n)
		return fail(p, start, "expected a dict key (a string or a name), found %s",
			    describe(p, name));
	rc = check_call(p, start, n);
	if (rc)
		return rc;
	*key = strndup(p->s + start, n);
	if (!*key)
		return oom(p);
	p->pos += n;
	return 0;
}

/* {k: v, 'k2': v} or Lua style {k = v}. */
static int parse_dict(struct lit *p, cJSON **out)
{
	size_t open = p->pos;
	struct key_list keys = { 0 };
	char *key = NULL, name[16];
	cJSON *obj, *val;
	int rc = enter(p);
	if (rc)
		return rc;
	obj = cJSON_CreateObject();
	if (!obj) {
		rc = oom(p);
		goto out;
	}
	for (;;) {
		skip_ws(p);
		if (peek(p) == '}')
			break;
		if (p->pos >= p->len)
			goto unclosed;
		size_t koff = p->pos;
		rc = parse_key(p, &key);
		if (rc)
			goto out;
		skip_ws(p);
		if (peek(p) != ':' && peek(p) != '=') {
			if (p->pos >= p->len)
				goto unclosed;
			rc = fail(p, p->pos, "expected ':' or '=' after dict key, found %s",
				  describe(p, name));
			goto out;
		}
		p->pos++;
		skip_ws(p);
		rc = parse_value(p, &val);
		if (rc)
			goto out;
		if (!cJSON_AddItemToObject(obj, key, val)) {
			cJSON_Delete(val);
			rc = oom(p);
			goto out;
		}
		rc = key_list_add(p, &keys, key, koff);
		if (rc)
			goto out;
		key = NULL;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
		} else if (peek(p) == '}') {
			break;
		} else if (p->pos >= p->len) {
			goto unclosed;
		} else {
			rc = fail(p, p->pos, "expected ',' or '}' in dict, found %s", describe(p, name));
			goto out;
		}
	}
	p->pos++;
	rc = key_list_check(p, &keys, "key");
	if (!rc) {
		*out = obj;
		obj = NULL;
	}
	goto out;
unclosed:
	rc = fail(p, open, "'{' is never closed");
out:
	p->depth--;
	free(key);
	key_list_free(&keys);
	cJSON_Delete(obj);
	return rc;
}

static int parse_value(struct lit *p, cJSON **out)
{
	char c = peek(p), name[16], *s;
	int rc;
	*out = NULL;
	switch (c) {
	case '[':
		return parse_seq(p, ']', out);
	case '(':
		return parse_seq(p, ')', out);
	case '{':
		return parse_dict(p, out);
	case '\'':
	case '"':
		rc = parse_string(p, &s);
		if (rc)
			return rc;
		*out = cJSON_CreateString(s);
		free(s);
		return *out ? 0 : oom(p);
	}
	if (is_word(p, c, 0))
		return parse_word(p, out);
	return fail(p, p->pos, "expected a value, found %s", describe(p, name));
}

/* After a value: only whitespace up to the end or the separator. Frees v on error. */
static int finish_value(struct lit *p, cJSON *v, const char *key)
{
	char name[16], snip[SNIPPET_MAX + 4];
	skip_ws(p);
	if (p->pos >= p->len || is_stop(p, p->s[p->pos]))
		return 0;
	cJSON_Delete(v);
	if (key)
		return fail(p, p->pos, "unexpected %s after the value of '%s'", describe(p, name),
			    snippet(key, strlen(key), snip));
	return fail(p, p->pos, "unexpected %s after the value", describe(p, name));
}

/* A parameter name and its '=': [A-Za-z_][A-Za-z0-9_]* (spaces allowed around). */
static int parse_name(struct lit *p, char **key)
{
	size_t start = p->pos, i = start, j;
	char snip[SNIPPET_MAX + 4];
	if (i < p->len && is_ident_start(p->s[i]))
		for (i++; i < p->len && is_ident(p->s[i]); i++)
			;
	for (j = i; j < p->len && is_space(p->s[j]) && !is_stop(p, p->s[j]); j++)
		;
	if (i == start || j >= p->len || p->s[j] != '=') {
		size_t k = start;
		while (k < p->len && p->s[k] != '=' && !is_stop(p, p->s[k]))
			k++;
		if (k < p->len && p->s[k] == '=')
			return fail(p, start, "invalid parameter name '%s' (letters, digits and '_', "
				    "not starting with a digit)", snippet(p->s + start, k - start, snip));
		return fail(p, start, "expected key=value, found '%s'",
			    snippet(p->s + start, k - start, snip));
	}
	*key = strndup(p->s + start, i - start);
	if (!*key)
		return oom(p);
	p->pos = j + 1;
	return 0;
}

static int lit_init(struct lit *p, const char *text, char stop, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->err = err;
	p->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	if (!text)
		return fail(p, 0, "no input");
	p->s = text;
	p->len = strnlen(text, (size_t)LITERAL_MAX_LEN + 1);
	p->stop = stop;
	if (p->len > LITERAL_MAX_LEN)
		return fail(p, LITERAL_MAX_LEN, "input longer than %u bytes", LITERAL_MAX_LEN);
	return 0;
}

int literal_parse(const char *text, cJSON **out, char *err, size_t errlen)
{
	struct lit p;
	cJSON *v;
	int rc = lit_init(&p, text, 0, err, errlen);
	*out = NULL;
	if (rc)
		return rc;
	skip_ws(&p);
	rc = parse_value(&p, &v);
	if (rc)
		return rc;
	rc = finish_value(&p, v, NULL);
	if (rc)
		return rc;
	*out = v;
	return 0;
}

static int valid_sep(char sep)
{
	return sep && !is_ident(sep) && !strchr("='\"[](){}", sep);
}

int literal_parse_assignments(const char *text, char sep, cJSON **out, char *err, size_t errlen)
{
	struct lit p;
	struct key_list keys = { 0 };
	char *key = NULL, name[16];
	cJSON *obj = NULL, *val;
	int rc = lit_init(&p, text, sep, err, errlen);
	*out = NULL;
	if (rc)
		return rc;
	if (!valid_sep(sep))
		return fail(&p, 0, "invalid separator %s", char_name(sep, name));
	obj = cJSON_CreateObject();
	if (!obj)
		return oom(&p);
	for (;;) {
		skip_ws(&p);
		if (p.pos >= p.len)
			break;
		if (p.s[p.pos] == sep) {
			p.pos++;
			continue;
		}
		size_t koff = p.pos;
		rc = parse_name(&p, &key);
		if (rc)
			goto out;
		skip_ws(&p);
		rc = parse_value(&p, &val);
		if (rc)
			goto out;
		rc = finish_value(&p, val, key);
		if (rc)
			goto out;
		if (!cJSON_AddItemToObject(obj, key, val)) {
			cJSON_Delete(val);
			rc = oom(&p);
			goto out;
		}
		rc = key_list_add(&p, &keys, key, koff);
		if (rc)
			goto out;
		key = NULL;
	}
	rc = key_list_check(&p, &keys, "parameter");
	if (!rc) {
		*out = obj;
		obj = NULL;
	}
out:
	free(key);
	key_list_free(&keys);
	cJSON_Delete(obj);
	return rc;
}

int literal_parse_assignment(const char *text, char **key, cJSON **value, char *err, size_t errlen)
{
	struct lit p;
	char *k = NULL;
	cJSON *v;
	int rc = lit_init(&p, text, 0, err, errlen);
	*key = NULL;
	*value = NULL;
	if (rc)
		return rc;
	skip_ws(&p);
	rc = parse_name(&p, &k);
	if (rc)
		return rc;
	skip_ws(&p);
	rc = parse_value(&p, &v);
	if (!rc)
		rc = finish_value(&p, v, k);
	if (rc) {
		free(k);
		return rc;
	}
	*key = k;
	*value = v;
	return 0;
}
