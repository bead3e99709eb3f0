/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jscan: recursive-descent JSON validation over a byte span.  See jscan.h.
 *
 * Every function takes the current position and the end of the input and
 * returns the position after what it consumed, or NULL on a syntax error;
 * nothing is allocated, so a failed scan needs no cleanup.
 */
#include "jscan.h"

#include <string.h>

struct scan {
	const char *end;
	int depth;
};

static const char *scan_value(struct scan *s, const char *p, struct jval *v);

const char *jscan_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p into *out; NULL when malformed. */
static const char *scan_hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return NULL;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return NULL;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return p + 4;
}

/* The escape after a backslash; surrogates must pair as jansson requires. */
static const char *scan_escape(const char *p, const char *end)
{
	unsigned u, lo;

	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return p + 1;
	case 'u':
		break;
	default:
		return NULL;
	}
	p = scan_hex4(p + 1, end, &u);
	if (!p)
		return NULL;
	if (u >= 0xDC00 && u <= 0xDFFF)
		return NULL;
	if (u < 0xD800 || u > 0xDBFF)
		return p;
	if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
		return NULL;
	p = scan_hex4(p + 2, end, &lo);
	if (!p || lo < 0xDC00 || lo > 0xDFFF)
		return NULL;
	return p;
}

/* One UTF-8 sequence starting with a byte >= 0x80 (RFC 3629 rules). */
static const char *scan_utf8(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned char c = u[0];
	size_t n;
	unsigned cp;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return NULL;
	}
	if ((size_t)(end - p) < n)
		return NULL;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return NULL;
		cp = cp << 6 | (u[i] & 0x3F);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return NULL;
	return p + n;
}

static const char *scan_string(struct scan *s, const char *p, struct jval *v)
{
	const char *start = p;

	v->escaped = false;
	p++; /* opening quote */
	while (p < s->end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			v->type = JT_STRING;
			v->p = start;
			v->len = (size_t)(p + 1 - start);
			return p + 1;
		}
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			v->escaped = true;
			p = scan_escape(p + 1, s->end);
		} else if (c >= 0x80) {
			p = scan_utf8(p, s->end);
		} else {
			p++;
		}
		if (!p)
			return NULL;
	}
	return NULL;
}

static const char *scan_digits(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q >= '0' && *q <= '9')
		q++;
	return q == p ? NULL : q;
}

static const char *scan_number(struct scan *s, const char *p)
{
	if (*p == '-')
		p++;
	if (p >= s->end)
		return NULL;
	if (*p == '0')
		p++;
	else if (!(p = scan_digits(p, s->end)))
		return NULL;
	if (p < s->end && *p == '.' && !(p = scan_digits(p + 1, s->end)))
		return NULL;
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < s->end && (*p == '+' || *p == '-'))
			p++;
		p = scan_digits(p, s->end);
	}
	return p;
}

static const char *scan_literal(struct scan *s, const char *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - p) < n || memcmp(p, w, n) != 0)
		return NULL;
	return p + n;
}

static bool is_container(const struct jval *v)
{
	return v->type == JT_OBJECT || v->type == JT_ARRAY;
}

static const char *scan_array(struct scan *s, const char *p, struct jval *v)
{
	struct jval e;

	v->flat = true;
	p = jscan_ws(p + 1, s->end);
	if (p < s->end && *p == ']')
		return p + 1;
	for (;;) {
		p = scan_value(s, p, &e);
		if (!p)
			return NULL;
		if (is_container(&e))
			v->flat = false;
		p = jscan_ws(p, s->end);
		if (p >= s->end)
			return NULL;
		if (*p == ']')
			return p + 1;
		if (*p != ',')
			return NULL;
		p = jscan_ws(p + 1, s->end);
	}
}

/*
 * The members of an object; when o is not NULL they are recorded there.
 * v->flat: every member value is a scalar or a flat array.
 */
static const char *
scan_members(struct scan *s, const char *p, struct jval *v, struct jobject *o)
{
	struct jmember m;

	v->flat = true;
	p = jscan_ws(p + 1, s->end);
	if (p < s->end && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= s->end || *p != '"')
			return NULL;
		p = scan_string(s, p, &m.key);
		if (!p)
			return NULL;
		p = jscan_ws(p, s->end);
		if (p >= s->end || *p != ':')
			return NULL;
		p = scan_value(s, jscan_ws(p + 1, s->end), &m.val);
		if (!p)
			return NULL;
		if (m.val.type == JT_OBJECT ||
		    (m.val.type == JT_ARRAY && !m.val.flat))
			v->flat = false;
		if (o) {
			if (o->n < JSCAN_MAX_MEMBERS)
				o->m[o->n++] = m;
			o->n_total++;
		}
		p = jscan_ws(p, s->end);
		if (p >= s->end)
			return NULL;
		if (*p == '}')
			return p + 1;
		if (*p != ',')
			return NULL;
		p = jscan_ws(p + 1, s->end);
	}
}

static const char *
scan_container(struct scan *s, const char *p, struct jval *v, struct jobject *o)
{
	const char *q;

	if (++s->depth > JSCAN_MAX_DEPTH)
		return NULL;
	if (*p == '{') {
		v->type = JT_OBJECT;
		q = scan_members(s, p, v, o);
	} else {
		v->type = JT_ARRAY;
		q = scan_array(s, p, v);
	}
	s->depth--;
	return q;
}

static const char *scan_value(struct scan *s, const char *p, struct jval *v)
{
	const char *q;

	v->p = p;
	v->flat = true;
	v->escaped = false;
	if (p >= s->end)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		q = scan_container(s, p, v, NULL);
		break;
	case '"':
		q = scan_string(s, p, v);
		break;
	case 't':
		v->type = JT_TRUE;
		q = scan_literal(s, p, "true");
		break;
	case 'f':
		v->type = JT_FALSE;
		q = scan_literal(s, p, "false");
		break;
	case 'n':
		v->type = JT_NULL;
		q = scan_literal(s, p, "null");
		break;
	default:
		v->type = JT_NUMBER;
		q = (*p == '-' || (*p >= '0' && *p <= '9')) ? scan_number(s, p)
		                                            : NULL;
		break;
	}
	if (q)
		v->len = (size_t)(q - p);
	return q;
}

int jscan_value(const char *p, const char *end, struct jval *out)
{
	struct scan s = {end, 0};

	return scan_value(&s, p, out) ? 0 : -1;
}

int jscan_object(const char *p, const char *end, struct jobject *out)
{
	struct scan s = {end, 0};
	const char *q;

	out->n = 0;
	out->n_total = 0;
	if (p >= end || *p != '{')
		return -1;
	out->self.p = p;
	out->self.escaped = false;
	q = scan_container(&s, p, &out->self, out);
	if (!q)
		return -1;
	out->self.len = (size_t)(q - p);
	return 0;
}

bool jscan_str_eq(const struct jval *v, const char *s)
{
	size_t n = strlen(s);

	return v->type == JT_STRING && !v->escaped && v->len == n + 2 &&
	       memcmp(v->p + 1, s, n) == 0;
}
