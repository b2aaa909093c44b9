/* jsonw.c - compact JSON text of a cJSON tree (jsonw.h). */
#include "jsonw.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

static char *room(struct buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

static void put(struct buf *b, const char *s, size_t n)
{
	char *d = room(b, n);
	if (d) {
		memcpy(d, s, n);
		b->len += n;
	}
}

static void put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put(b, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(b, run, (size_t)(s - run));
		run = s + 1;
		char esc[6] = { '\\', 0 };
		size_t n = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		put(b, esc, n);
	}
	put(b, run, (size_t)(s - run));
	put(b, "\"", 1);
}

/* Integers (the ids, indexes and counters of the wire) by hand: cJSON
 * 1.7.15 prints every number with "%1.15g" and reads it back with
 * sscanf, a few hundred nanoseconds each. Others as cJSON does: the
 * shortest of 15 or 17 digits that reads back the same. */
static void put_number(struct buf *b, double d)
{
	char tmp[32];
	if (isnan(d) || isinf(d)) {
		put(b, "null", 4);
		return;
	}
	if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(long long)d) {
		long long v = (long long)d;
		unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
		char *e = tmp + sizeof(tmp), *p = e;
		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10) > 0);
		if (v < 0)
			*--p = '-';
		put(b, p, (size_t)(e - p));
		return;
	}
	int n = snprintf(tmp, sizeof(tmp), "%1.15g", d);
	if (strtod(tmp, NULL) != d)
		n = snprintf(tmp, sizeof(tmp), "%1.17g", d);
	char point = localeconv()->decimal_point[0];
	for (int i = 0; point != '.' && i < n; i++)
		if (tmp[i] == point)
			tmp[i] = '.';
	put(b, tmp, (size_t)n);
}

static void put_value(struct buf *b, const cJSON *v)
{
	switch (v->type & 0xff) {
	case cJSON_NULL:
		put(b, "null", 4);
		break;
	case cJSON_False:
		put(b, "false", 5);
		break;
	case cJSON_True:
		put(b, "true", 4);
		break;
	case cJSON_Number:
		put_number(b, v->valuedouble);
		break;
	case cJSON_String:
		if (!v->valuestring)
			b->failed = 1;
		else
			put_string(b, v->valuestring);
		break;
	case cJSON_Raw:
		if (!v->valuestring)
			b->failed = 1;
		else
			put(b, v->valuestring, strlen(v->valuestring));
		break;
	case cJSON_Array:
	case cJSON_Object: {
		int obj = (v->type & 0xff) == cJSON_Object;
		put(b, obj ? "{" : "[", 1);
		for (const cJSON *c = v->child; c && !b->failed; c = c->next) {
			if (c != v->child)
				put(b, ",", 1);
			if (obj) {
				if (!c->string) {
					b->failed = 1;
					break;
				}
				put_string(b, c->string);
				put(b, ":", 1);
			}
			put_value(b, c);
		}
		put(b, obj ? "}" : "]", 1);
		break;
	}
	default:
		b->failed = 1;
	}
}

char *jsonw_print(const cJSON *item, size_t *len)
{
	struct buf b = { 0 };
	if (!item)
		return NULL;
	put_value(&b, item);
	if (b.failed || !b.p) {
		free(b.p);
		return NULL;
	}
	b.p[b.len] = 0;
	if (len)
		*len = b.len;
	return b.p;
}
