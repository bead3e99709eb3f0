/* SPDX-License-Identifier: Apache-2.0 */
/*
 * body: envelope splitting and validation.  See body.h.
 *
 * Check order inside one envelope (Splunk's own order is not documented):
 * size, JSON syntax, unknown keys, `event` (12, 13), `fields` (15),
 * metadata types and `time` (6), then the index allowlist (7).
 */
#include "body.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "tokens.h"
#include "util/xalloc.h"

/* Internal verdict: the envelope ends the body without an error. */
#define ENVELOPE_STOP (-1)

void body_result_init(struct body_result *r)
{
	memset(r, 0, sizeof(*r));
	r->event_number = -1;
}

void body_result_dispose(struct body_result *r)
{
	free(r->ev);
	body_result_init(r);
}

int body_string(const struct jval *v, char *buf, size_t size)
{
	json_error_t err;
	json_t *j;
	size_t n;
	int rc = -1;

	if (v->type != JT_STRING)
		return -1;
	if (!v->escaped) {
		if (v->len - 2 >= size)
			return -1;
		memcpy(buf, v->p + 1, v->len - 2);
		buf[v->len - 2] = '\0';
		return 0;
	}
	/* Escapes are rare in metadata: let jansson decode them. */
	j = json_loadb(v->p, v->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!j)
		return -1;
	n = json_string_length(j);
	if (n < size && !memchr(json_string_value(j), '\0', n)) {
		memcpy(buf, json_string_value(j), n + 1);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

static void push(struct body_result *r, const struct envelope *e)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->ev = xrealloc(r->ev, r->cap * sizeof(*r->ev));
	}
	r->ev[r->n++] = *e;
}

/* Envelope members, in the order of member_names. */
enum member {
	M_EVENT,
	M_FIELDS,
	M_HOST,
	M_SOURCE,
	M_SOURCETYPE,
	M_INDEX,
	M_TIME,
	M_UNKNOWN
};

static const char *const member_names[] = {
        "event", "fields", "host", "source", "sourcetype", "index", "time"};

static enum member member_of(const struct jval *key)
{
	char name[16];

	if (key->escaped && body_string(key, name, sizeof(name)) != 0)
		return M_UNKNOWN;
	for (int i = 0; i < M_UNKNOWN; i++) {
		if (key->escaped ? strcmp(name, member_names[i]) == 0
		                 : jscan_str_eq(key, member_names[i]))
			return (enum member)i;
	}
	return M_UNKNOWN;
}

static struct jval *member_slot(struct envelope *e, enum member m)
{
	struct jval *slots[] = {&e->event,  &e->fields,     &e->host,
	                        &e->source, &e->sourcetype, &e->index};

	return slots[m];
}

static int take_time(struct envelope *e, const struct jval *v)
{
	char num[64], *endp;
	const char *s = v->p;
	size_t n = v->len;

	if (v->type == JT_NULL)
		return 0;
	if (v->type == JT_STRING) {
		/* Numeric strings work too (Splunk's Node library). */
		if (v->escaped)
			return HEC_INVALID_FORMAT;
		s++;
		n -= 2;
	} else if (v->type != JT_NUMBER) {
		return HEC_INVALID_FORMAT;
	}
	if (n == 0 || n >= sizeof(num))
		return HEC_INVALID_FORMAT;
	memcpy(num, s, n);
	num[n] = '\0';
	e->time = strtod(num, &endp);
	if (*endp != '\0' || !isfinite(e->time))
		return HEC_INVALID_FORMAT;
	e->has_time = true;
	return 0;
}

/* Record the members; ENVELOPE_STOP or a code for an unknown key. */
static int take_members(struct envelope *e,
                        const struct jobject *o,
                        const struct body_rules *rules,
                        int *bad_time)
{
	bool unknown = o->n_total > o->n;

	for (size_t i = 0; i < o->n; i++) {
		enum member m = member_of(&o->m[i].key);
		int rc;

		if (m == M_UNKNOWN) {
			unknown = true;
		} else if (m == M_TIME) {
			rc = take_time(e, &o->m[i].val);
			if (rc)
				*bad_time = rc;
		} else {
			/* A repeated key: the last one wins (as jansson). */
			*member_slot(e, m) = o->m[i].val;
		}
	}
	if (!unknown || rules->unknown == UNKNOWN_KEYS_IGNORE)
		return 0;
	return rules->unknown == UNKNOWN_KEYS_STOP ? ENVELOPE_STOP
	                                           : HEC_INVALID_FORMAT;
}

static bool is_meta_ok(const struct jval *v)
{
	return v->type == JT_NONE || v->type == JT_STRING || v->type == JT_NULL;
}

static int check_index(const struct jval *v, const struct body_rules *rules)
{
	char name[256];

	if (v->type != JT_STRING || !rules->token)
		return 0;
	if (body_string(v, name, sizeof(name)) != 0)
		return HEC_INCORRECT_INDEX;
	return token_index_allowed(rules->token, name) ? 0
	                                               : HEC_INCORRECT_INDEX;
}

static int check_envelope(struct envelope *e,
                          const struct jobject *o,
                          const struct body_rules *rules)
{
	int rc, bad_time = 0;

	memset(e, 0, sizeof(*e));
	e->text = o->self.p;
	e->len = o->self.len;
	/* An unknown key wins over everything else: parsing stops there. */
	rc = take_members(e, o, rules, &bad_time);
	if (rc)
		return rc;
	if (e->event.type == JT_NONE || e->event.type == JT_NULL)
		return HEC_EVENT_REQUIRED;
	if (e->event.type == JT_STRING && e->event.len == 2)
		return HEC_EVENT_BLANK;
	if (e->fields.type != JT_NONE && e->fields.type != JT_NULL &&
	    (e->fields.type != JT_OBJECT || !e->fields.flat))
		return HEC_FIELDS_ERROR;
	if (bad_time)
		return bad_time;
	if (!is_meta_ok(&e->host) || !is_meta_ok(&e->source) ||
	    !is_meta_ok(&e->sourcetype) || !is_meta_ok(&e->index))
		return HEC_INVALID_FORMAT;
	return check_index(&e->index, rules);
}

/* Stop the body at envelope i with a code. */
static void fail_at(struct body_result *r,
                    int code,
                    size_t i,
                    const struct body_rules *rules)
{
	r->code = code;
	r->event_number = (long)i;
	/* Splunk 10.4 reported a bad index one past the culprit ([O]). */
	if (code == HEC_INCORRECT_INDEX && !rules->code7_exact)
		r->event_number = (long)i + 1;
}

/*
 * One envelope at p; returns the position after it, or NULL when the body
 * stops here (r says why).
 */
static const char *parse_one(struct body_result *r,
                             const char *p,
                             const char *end,
                             const struct body_rules *rules)
{
	struct jobject o;
	struct envelope e;
	int rc;

	if (jscan_object(p, end, &o) != 0) {
		fail_at(r, HEC_INVALID_FORMAT, r->n, rules);
		return NULL;
	}
	if (o.self.len > rules->max_event_size) {
		fail_at(r, HEC_INVALID_FORMAT, r->n, rules);
		return NULL;
	}
	rc = check_envelope(&e, &o, rules);
	if (rc == ENVELOPE_STOP) {
		if (r->n == 0)
			r->code = HEC_NO_DATA;
		return NULL;
	}
	if (rc) {
		fail_at(r, rc, r->n, rules);
		return NULL;
	}
	push(r, &e);
	return p + o.self.len;
}

/* A top-level array of envelopes: undocumented, seen accepted ([O]). */
static void parse_array(struct body_result *r,
                        const char *p,
                        const char *end,
                        const struct body_rules *rules)
{
	p = jscan_ws(p + 1, end);
	if (p < end && *p == ']') {
		r->code = HEC_NO_DATA;
		return;
	}
	for (;;) {
		p = parse_one(r, p, end, rules);
		if (!p)
			return;
		p = jscan_ws(p, end);
		if (p < end && *p == ']' && jscan_ws(p + 1, end) == end)
			return;
		if (p >= end || *p != ',') {
			fail_at(r, HEC_INVALID_FORMAT, r->n, rules);
			return;
		}
		p = jscan_ws(p + 1, end);
	}
}

void body_parse(struct body_result *r,
                const char *data,
                size_t len,
                const struct body_rules *rules)
{
	const char *end = data + len;
	const char *p = jscan_ws(data, end);

	body_result_init(r);
	if (p < end && *p == '[') {
		parse_array(r, p, end, rules);
		return;
	}
	while (p < end) {
		p = parse_one(r, p, end, rules);
		if (!p)
			return;
		p = jscan_ws(p, end);
	}
	if (r->n == 0)
		r->code = HEC_NO_DATA;
}
