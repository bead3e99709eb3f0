/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event: validation and HEC envelope formatting of one security event.
 *
 * Design.  jansson decodes about 35 MB/s (some 25 us for an 800-byte
 * event), several times the hot path's budget, and its dump reformats
 * reals.  So the common case takes a fast path: one strict pass over the
 * text that checks the JSON grammar (RFC 8259: UTF-8, escapes, surrogate
 * pairs, no \u0000, like jansson), copies it compacted with "metadata" moved
 * last, and records the ~30 values validation and the Splunk fields need
 * ("slots").  Whatever that pass does not take on -- invalid JSON, a
 * non-object, a duplicated known key, an escaped key in a known object,
 * deep nesting -- goes to the reference path: jansson, which gives the error
 * text or, for valid JSON, fills the same slots (last duplicate wins, as in
 * jsonb).  Both paths then run the one validate(), which follows
 * sql/10_validate.sql rule by rule.  event__parse_reference() exposes the
 * jansson path so tests and the fuzzer can compare the two.
 *
 * The fast path is deliberately more lenient than jansson in one place:
 * numbers beyond int64/double range (PostgreSQL's jsonb takes them) are
 * kept as written instead of rejected.
 *
 * json_t never leaves this file.
 */
#include "event.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Nesting the fast path handles; deeper documents go to jansson. */
#define FAST_MAX_DEPTH 64
/* Below this size the metadata scratch lives on the stack. */
#define STACK_SCRATCH 4096

/* ------------------------------------------------------------------ */
/* Slots: the values validation and the Splunk fields look at. */

enum vtype {
	VT_ABSENT = 0,
	VT_NULL,
	VT_BOOL,
	VT_INT, /* JSON integer within int64 */
	VT_NUM, /* any other number */
	VT_STR,
	VT_OBJ,
	VT_ARR,
};

enum slot_id {
	S_EVENT_ID,
	S_TIMESTAMP,
	S_EVENT_TYPE,
	S_DECISION,
	S_EVENT_CATEGORY,
	S_OUTCOME,
	S_ACTION,
	S_AGENT,
	S_SESSION,
	S_THREAT,
	S_RESOURCE,
	S_METADATA,
	S_DEC_ALLOWED,
	S_DEC_GUARD,
	S_DEC_SEVERITY,
	S_DEC_REASON,
	S_AGENT_ID,
	S_AGENT_NAME,
	S_SES_ID,
	S_SES_USER_ID,
	S_SES_TENANT_ID,
	S_SES_ENV,
	S_THR_TACTIC,
	S_THR_TECHNIQUE,
	S_RES_TYPE,
	S_RES_NAME,
	S_RES_PATH,
	S_RES_HOST,
	S_RES_PORT,
	S_COUNT
};

#define P_TOP (-1)  /* member of the event object */
#define P_NONE (-2) /* an object whose members are not slots */

/* Parents precede their children, so one pass fills both. */
static const struct slot_desc {
	signed char parent;
	unsigned char keylen;
	const char *key;
	const char *path;
} slot_desc[S_COUNT] = {
#define D(id, parent, key, path) [id] = {parent, sizeof(key) - 1, key, path}
        D(S_EVENT_ID, P_TOP, "event_id", "event_id"),
        D(S_TIMESTAMP, P_TOP, "timestamp", "timestamp"),
        D(S_EVENT_TYPE, P_TOP, "event_type", "event_type"),
        D(S_DECISION, P_TOP, "decision", "decision"),
        D(S_EVENT_CATEGORY, P_TOP, "event_category", "event_category"),
        D(S_OUTCOME, P_TOP, "outcome", "outcome"),
        D(S_ACTION, P_TOP, "action", "action"),
        D(S_AGENT, P_TOP, "agent", "agent"),
        D(S_SESSION, P_TOP, "session", "session"),
        D(S_THREAT, P_TOP, "threat", "threat"),
        D(S_RESOURCE, P_TOP, "resource", "resource"),
        D(S_METADATA, P_TOP, "metadata", "metadata"),
        D(S_DEC_ALLOWED, S_DECISION, "allowed", "decision.allowed"),
        D(S_DEC_GUARD, S_DECISION, "guard", "decision.guard"),
        D(S_DEC_SEVERITY, S_DECISION, "severity", "decision.severity"),
        D(S_DEC_REASON, S_DECISION, "reason", "decision.reason"),
        D(S_AGENT_ID, S_AGENT, "id", "agent.id"),
        D(S_AGENT_NAME, S_AGENT, "name", "agent.name"),
        D(S_SES_ID, S_SESSION, "id", "session.id"),
        D(S_SES_USER_ID, S_SESSION, "user_id", "session.user_id"),
        D(S_SES_TENANT_ID, S_SESSION, "tenant_id", "session.tenant_id"),
        D(S_SES_ENV, S_SESSION, "environment", "session.environment"),
        D(S_THR_TACTIC, S_THREAT, "tactic", "threat.tactic"),
        D(S_THR_TECHNIQUE, S_THREAT, "technique", "threat.technique"),
        D(S_RES_TYPE, S_RESOURCE, "type", "resource.type"),
        D(S_RES_NAME, S_RESOURCE, "name", "resource.name"),
        D(S_RES_PATH, S_RESOURCE, "path", "resource.path"),
        D(S_RES_HOST, S_RESOURCE, "host", "resource.host"),
        D(S_RES_PORT, S_RESOURCE, "port", "resource.port"),
#undef D
};

struct slot {
	unsigned char type; /* enum vtype */
	bool bval;
	bool esc; /* raw string holds escapes */
	long long ival;
	const char *raw; /* string: content between the quotes, or decoded */
	size_t rawlen;
	const char *str; /* string: decoded, NUL-terminated (in the arena) */
	size_t len;
};

/* ------------------------------------------------------------------ */
/* Splunk fields (seed "Splunk Field Mappings", plus environment). */

enum field_id {
	F_EVENT_ID,
	F_EVENT_TYPE,
	F_EVENT_CATEGORY,
	F_OUTCOME,
	F_AGENT_ID,
	F_SESSION_ID,
	F_USER,
	F_TENANT_ID,
	F_DECISION_ALLOWED,
	F_GUARD,
	F_SEVERITY,
	F_REASON,
	F_RESOURCE_TYPE,
	F_RESOURCE_NAME,
	F_RESOURCE_PATH,
	F_DEST_HOST,
	F_DEST_PORT,
	F_MITRE_TACTIC,
	F_MITRE_TECHNIQUE,
	F_ENVIRONMENT,
	F_COUNT
};

static const char *const field_names[F_COUNT + 1] = {
        [F_EVENT_ID] = "event_id",
        [F_EVENT_TYPE] = "event_type",
        [F_EVENT_CATEGORY] = "event_category",
        [F_OUTCOME] = "outcome",
        [F_AGENT_ID] = "agent_id",
        [F_SESSION_ID] = "session_id",
        [F_USER] = "user",
        [F_TENANT_ID] = "tenant_id",
        [F_DECISION_ALLOWED] = "decision_allowed",
        [F_GUARD] = "guard",
        [F_SEVERITY] = "severity",
        [F_REASON] = "reason",
        [F_RESOURCE_TYPE] = "resource_type",
        [F_RESOURCE_NAME] = "resource_name",
        [F_RESOURCE_PATH] = "resource_path",
        [F_DEST_HOST] = "dest_host",
        [F_DEST_PORT] = "dest_port",
        [F_MITRE_TACTIC] = "mitre_tactic",
        [F_MITRE_TECHNIQUE] = "mitre_technique",
        [F_ENVIRONMENT] = "environment",
        [F_COUNT] = NULL,
};

/* The slot behind each string field (decision_allowed, dest_port: own). */
static const signed char field_slot[F_COUNT] = {
        [F_EVENT_ID] = S_EVENT_ID,
        [F_EVENT_TYPE] = S_EVENT_TYPE,
        [F_EVENT_CATEGORY] = S_EVENT_CATEGORY,
        [F_OUTCOME] = S_OUTCOME,
        [F_AGENT_ID] = S_AGENT_ID,
        [F_SESSION_ID] = S_SES_ID,
        [F_USER] = S_SES_USER_ID,
        [F_TENANT_ID] = S_SES_TENANT_ID,
        [F_DECISION_ALLOWED] = -1,
        [F_GUARD] = S_DEC_GUARD,
        [F_SEVERITY] = S_DEC_SEVERITY,
        [F_REASON] = S_DEC_REASON,
        [F_RESOURCE_TYPE] = S_RES_TYPE,
        [F_RESOURCE_NAME] = S_RES_NAME,
        [F_RESOURCE_PATH] = S_RES_PATH,
        [F_DEST_HOST] = S_RES_HOST,
        [F_DEST_PORT] = -1,
        [F_MITRE_TACTIC] = S_THR_TACTIC,
        [F_MITRE_TECHNIQUE] = S_THR_TECHNIQUE,
        [F_ENVIRONMENT] = S_SES_ENV,
};

struct event {
	int64_t time_ms;
	enum event_severity sev;
	const char *field[F_COUNT];
	size_t field_len[F_COUNT];
	char *body; /* compact event object, metadata last, NUL-terminated */
	size_t body_len;
	bool body_heap; /* body is its own allocation (reference path) */
	char port[8];
	char mem[]; /* body (fast path), then the decoded strings */
};

/* ------------------------------------------------------------------ */
/* Fast path: a strict single-pass scanner that copies compacted. */

struct scan {
	const unsigned char *p, *end;
	char *o; /* output cursor */
	struct slot *slots;
};

static inline void skip_ws(struct scan *s)
{
	const unsigned char *p = s->p;

	while (p < s->end &&
	       (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	s->p = p;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const unsigned char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Length of the valid escape at p (p[0] == '\\'), 0 when invalid. */
static size_t escape_len(const unsigned char *p, const unsigned char *end)
{
	long v, lo;

	if (end - p < 2)
		return 0;
	switch (p[1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return 2;
	case 'u':
		break;
	default:
		return 0;
	}
	if (end - p < 6)
		return 0;
	v = hex4(p + 2);
	if (v <= 0 || (v >= 0xDC00 && v <= 0xDFFF))
		return 0; /* bad hex, \u0000 (jansson refuses it), lone low */
	if (v < 0xD800 || v > 0xDBFF)
		return 6;
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return 0;
	lo = hex4(p + 8);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return 0;
	return 12;
}

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n;

	if (c < 0xC2)
		return 0;
	n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
	if (!n || (size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) ||
	    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
		return 0; /* overlong, surrogate, or past U+10FFFF */
	return n;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/*
 * Nonzero when one of the 8 bytes in v needs a closer look: a quote, a
 * backslash, a control character or a non-ASCII byte.  (The classic
 * "has zero byte" / "has byte less than" tricks; exact as a boolean.)
 */
static inline uint64_t swar_special(uint64_t v)
{
	uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((b - ONES) & ~b) |
	        ((v - ONES * 0x20) & ~v) | v) &
	       HIGHS;
}

/* Index of the first byte whose flag (high bit) is set in m != 0. */
static inline size_t first_flagged(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(m) >> 3;
#else
	return (size_t)__builtin_clzll(m) >> 3;
#endif
}

/* A string at s->p (which is '"'); *esc is set when it holds escapes. */
static int scan_string(struct scan *s, bool *esc)
{
	const unsigned char *p = s->p + 1, *end = s->end;
	char *o = s->o;
	size_t n;

	*o++ = '"';
	for (;;) {
		/*
		 * Eight bytes at a time up to the first that needs a look;
		 * byte by byte near the end of the text.  Copying all eight
		 * is safe: the output never runs ahead of the input.
		 */
		if (end - p >= 8) {
			uint64_t v, m;

			memcpy(&v, p, 8);
			memcpy(o, p, 8);
			m = swar_special(v);
			if (!m) {
				o += 8;
				p += 8;
				continue;
			}
			n = first_flagged(m);
			o += n;
			p += n;
		} else {
			while (p < end && *p >= 0x20 && *p < 0x80 &&
			       *p != '"' && *p != '\\')
				*o++ = (char)*p++;
		}
		if (p >= end || *p < 0x20)
			return -1;
		if (*p == '"')
			break;
		if (*p == '\\') {
			n = escape_len(p, end);
			*esc = true;
		} else {
			n = utf8_len(p, end);
		}
		if (!n)
			return -1;
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o++ = '"';
	s->p = p + 1;
	s->o = o;
	return 0;
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(struct scan *s, struct slot *sl)
{
	const unsigned char *p = s->p, *start = p, *end = s->end;
	bool neg = false, isint = true, big = false;
	unsigned long long v = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || !is_digit(*p))
		return -1;
	if (*p == '0') {
		p++;
	} else {
		while (p < end && is_digit(*p)) {
			unsigned d = (unsigned)(*p++ - '0');

			if (v > (ULLONG_MAX - d) / 10)
				big = true;
			else
				v = v * 10 + d;
		}
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
		isint = false;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
		isint = false;
	}
	if (sl) {
		if (isint && !big && v <= (neg ? (1ULL << 63) : LLONG_MAX)) {
			sl->type = VT_INT;
			sl->ival = neg ? (long long)(0 - v) : (long long)v;
		} else {
			sl->type = VT_NUM;
		}
	}
	memcpy(s->o, start, (size_t)(p - start));
	s->o += p - start;
	s->p = p;
	return 0;
}

static int scan_literal(struct scan *s, const char *lit, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return -1;
	memcpy(s->o, lit, n);
	s->o += n;
	s->p += n;
	return 0;
}

static int scan_value(struct scan *s, int depth, int id);

/* The slot of key (of parent) or -1. */
static int find_slot(int parent, const unsigned char *key, size_t len)
{
	int first = parent == P_TOP ? 0 : S_DEC_ALLOWED;

	for (int i = first; i < S_COUNT; i++)
		if (slot_desc[i].parent == parent &&
		    slot_desc[i].keylen == len &&
		    slot_desc[i].key[0] == (char)key[0] &&
		    memcmp(slot_desc[i].key, key, len) == 0)
			return i;
	return -1;
}

/* One "key":value member at s->p (after whitespace). */
static int scan_member(struct scan *s, int depth, int parent)
{
	const unsigned char *key = s->p + 1;
	bool esc = false;
	int id = -1;

	if (s->p >= s->end || *s->p != '"' || scan_string(s, &esc))
		return -1;
	if (parent != P_NONE) {
		/* An escaped key might spell a known one: jansson decides. */
		if (esc)
			return -1;
		id = find_slot(parent, key, (size_t)(s->p - 1 - key));
		if (id >= 0 && s->slots[id].type != VT_ABSENT)
			return -1; /* duplicate: jansson's last-wins */
	}
	skip_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return -1;
	*s->o++ = ':';
	s->p++;
	skip_ws(s);
	return scan_value(s, depth, id);
}

static int scan_object(struct scan *s, int depth, int parent)
{
	if (depth > FAST_MAX_DEPTH)
		return -1;
	*s->o++ = '{';
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}')
		goto close;
	for (;;) {
		skip_ws(s);
		if (scan_member(s, depth, parent))
			return -1;
		skip_ws(s);
		if (s->p >= s->end)
			return -1;
		if (*s->p == '}')
			break;
		if (*s->p != ',')
			return -1;
		*s->o++ = ',';
		s->p++;
	}
close:
	*s->o++ = '}';
	s->p++;
	return 0;
}

static int scan_array(struct scan *s, int depth)
{
	if (depth > FAST_MAX_DEPTH)
		return -1;
	*s->o++ = '[';
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']')
		goto close;
	for (;;) {
		skip_ws(s);
		if (scan_value(s, depth, -1))
			return -1;
		skip_ws(s);
		if (s->p >= s->end)
			return -1;
		if (*s->p == ']')
			break;
		if (*s->p != ',')
			return -1;
		*s->o++ = ',';
		s->p++;
	}
close:
	*s->o++ = ']';
	s->p++;
	return 0;
}

/* A value at s->p; id >= 0 records it in that slot. */
static int scan_value(struct scan *s, int depth, int id)
{
	struct slot *sl = id >= 0 ? &s->slots[id] : NULL;
	const unsigned char *raw;
	bool esc = false;

	if (s->p >= s->end)
		return -1;
	switch (*s->p) {
	case '"':
		raw = s->p + 1;
		if (scan_string(s, &esc))
			return -1;
		if (sl) {
			sl->type = VT_STR;
			sl->raw = (const char *)raw;
			sl->rawlen = (size_t)(s->p - 1 - raw);
			sl->esc = esc;
		}
		return 0;
	case '{':
		if (sl)
			sl->type = VT_OBJ;
		/* Members of agent, decision, ... are slots themselves. */
		return scan_object(s, depth + 1,
		                   id >= 0 && id < S_METADATA ? id : P_NONE);
	case '[':
		if (sl)
			sl->type = VT_ARR;
		return scan_array(s, depth + 1);
	case 't':
	case 'f':
		if (sl) {
			sl->type = VT_BOOL;
			sl->bval = *s->p == 't';
		}
		return *s->p == 't' ? scan_literal(s, "true", 4)
		                    : scan_literal(s, "false", 5);
	case 'n':
		if (sl)
			sl->type = VT_NULL;
		return scan_literal(s, "null", 4);
	default:
		return scan_number(s, sl);
	}
}

/*
 * The whole text: an object whose "metadata" member is written to the
 * scratch (at most as long as the text) and appended last.  Writes at most
 * as many bytes as it reads, so body needs len + 1.
 */
static int scan_event(struct scan *s, char *body, char *scratch, size_t *out)
{
	size_t nout = 0, meta_len = 0;
	bool has_meta = false;

	s->o = body;
	skip_ws(s);
	if (s->p >= s->end || *s->p != '{')
		return -1;
	*s->o++ = '{';
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		goto done;
	}
	for (;;) {
		char *save = NULL;

		skip_ws(s);
		if (s->end - s->p >= 10 &&
		    memcmp(s->p, "\"metadata\"", 10) == 0) {
			save = s->o;
			s->o = scratch;
		} else if (nout++) {
			*s->o++ = ',';
		}
		if (scan_member(s, 1, P_TOP))
			return -1;
		if (save) {
			meta_len = (size_t)(s->o - scratch);
			has_meta = true;
			s->o = save;
		}
		skip_ws(s);
		if (s->p >= s->end)
			return -1;
		s->p++;
		if (s->p[-1] == '}')
			break;
		if (s->p[-1] != ',')
			return -1;
	}
done:
	skip_ws(s);
	if (s->p != s->end)
		return -1;
	if (has_meta) {
		if (nout)
			*s->o++ = ',';
		memcpy(s->o, scratch, meta_len);
		s->o += meta_len;
	}
	*s->o++ = '}';
	*s->o = '\0';
	*out = (size_t)(s->o - body);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reference path: jansson. */

static enum vtype json_vtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return VT_OBJ;
	case JSON_ARRAY:
		return VT_ARR;
	case JSON_STRING:
		return VT_STR;
	case JSON_INTEGER:
		return VT_INT;
	case JSON_REAL:
		return VT_NUM;
	case JSON_TRUE:
	case JSON_FALSE:
		return VT_BOOL;
	case JSON_NULL:
		break;
	}
	return VT_NULL;
}

/* Fill the slots from root; strings stay borrowed from root. */
static void fill_slots(json_t *root, struct slot *slots)
{
	json_t *jv[S_COUNT];

	for (int i = 0; i < S_COUNT; i++) {
		int parent = slot_desc[i].parent;
		json_t *obj = parent == P_TOP                ? root
		              : slots[parent].type == VT_OBJ ? jv[parent]
		                                             : NULL;
		json_t *v = obj ? json_object_get(obj, slot_desc[i].key) : NULL;

		jv[i] = v;
		memset(&slots[i], 0, sizeof(slots[i]));
		if (!v)
			continue;
		slots[i].type = (unsigned char)json_vtype(v);
		slots[i].bval = json_is_true(v);
		if (json_is_integer(v))
			slots[i].ival = json_integer_value(v);
		if (json_is_string(v)) {
			slots[i].raw = json_string_value(v);
			slots[i].rawlen = json_string_length(v);
		}
	}
}

/* Compact text of root with metadata moved last, in its own allocation. */
static char *dump_body(json_t *root, size_t *len)
{
	const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(17);
	json_t *meta = json_object_get(root, "metadata");
	char *body;
	size_t n;

	if (meta) {
		json_incref(meta);
		json_object_del(root, "metadata");
		/* jansson keeps insertion order: a re-added key goes last. */
		if (json_object_set_new(root, "metadata", meta))
			abort(); /* only on allocation failure */
	}
	n = json_dumpb(root, NULL, 0, flags);
	body = xmalloc(n + 1);
	if (json_dumpb(root, body, n, flags) != n)
		abort();
	body[n] = '\0';
	*len = n;
	return body;
}

/* ------------------------------------------------------------------ */
/* Validation (the rules and texts of sql/10_validate.sql). */

static int bad(const char *path, const char *problem)
{
	relay_error_set("invalid event: %s: %s", path, problem);
	return RELAY_EINVAL;
}

static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (hexval((unsigned char)s[i]) < 0) {
			return false;
		}
	}
	return true;
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
	                                      31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

/*
 * RFC 3339 date-time with a zone: YYYY-MM-DD(T|t| )HH:MM:SS[.frac](Z|z|
 * +HH:MM|-HH:MM); second 60 allowed (a leap second, counted as :00 of
 * the next minute, as PostgreSQL does).  0 and *ms on success.
 */
static int parse_time(const char *s, size_t n, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0, fdig = 0, off = 0;
	size_t i = 19;

	if (n < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60 || d > days_in_month(y, mo))
		return -1;
	if (s[i] == '.') {
		i++;
		if (i >= n || !is_digit((unsigned char)s[i]))
			return -1;
		for (; i < n && is_digit((unsigned char)s[i]); i++) {
			if (fdig < 3) {
				frac = frac * 10 + (s[i] - '0');
				fdig++;
			}
		}
		for (; fdig < 3; fdig++)
			frac *= 10;
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	           s[i + 3] == ':') {
		int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);

		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60;
		if (s[i] == '-')
			off = -off;
	} else {
		return -1;
	}
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
	       off) * 1000 +
	      frac;
	return 0;
}

static const char *const severities[] = {
        [EVENT_SEV_INFO] = "info",         [EVENT_SEV_LOW] = "low",
        [EVENT_SEV_MEDIUM] = "medium",     [EVENT_SEV_HIGH] = "high",
        [EVENT_SEV_CRITICAL] = "critical",
};

static int validate(struct event *ev, const struct slot *sl)
{
	static const int opt_str[] = {S_EVENT_CATEGORY, S_OUTCOME, S_ACTION};
	static const int opt_obj[] = {S_AGENT, S_SESSION, S_THREAT, S_RESOURCE,
	                              S_METADATA};
	static const int sub_str[] = {
	        S_DEC_REASON,    S_AGENT_ID,      S_AGENT_NAME, S_SES_ID,
	        S_SES_USER_ID,   S_SES_TENANT_ID, S_SES_ENV,    S_THR_TACTIC,
	        S_THR_TECHNIQUE, S_RES_TYPE,      S_RES_NAME,   S_RES_PATH,
	        S_RES_HOST,
	};
	const struct slot *v;
	size_t i;

	v = &sl[S_EVENT_ID];
	if (v->type == VT_ABSENT)
		return bad("event_id", "required");
	if (v->type != VT_STR || !is_uuid(v->str, v->len))
		return bad("event_id", "must be a UUID string");

	v = &sl[S_TIMESTAMP];
	if (v->type == VT_ABSENT)
		return bad("timestamp", "required");
	if (v->type != VT_STR || parse_time(v->str, v->len, &ev->time_ms))
		return bad("timestamp",
		           "must be an RFC 3339 date-time with a zone offset");

	v = &sl[S_EVENT_TYPE];
	if (v->type == VT_ABSENT)
		return bad("event_type", "required");
	if (v->type != VT_STR || v->len == 0)
		return bad("event_type", "must be a non-empty string");

	v = &sl[S_DECISION];
	if (v->type == VT_ABSENT)
		return bad("decision", "required");
	if (v->type != VT_OBJ)
		return bad("decision", "must be an object");
	v = &sl[S_DEC_ALLOWED];
	if (v->type == VT_ABSENT)
		return bad("decision.allowed", "required");
	if (v->type != VT_BOOL)
		return bad("decision.allowed", "must be a boolean");
	v = &sl[S_DEC_GUARD];
	if (v->type == VT_ABSENT)
		return bad("decision.guard", "required");
	if (v->type != VT_STR)
		return bad("decision.guard", "must be a string");
	v = &sl[S_DEC_SEVERITY];
	if (v->type == VT_ABSENT)
		return bad("decision.severity", "required");
	for (i = 0; v->type == VT_STR && i < 5; i++)
		if (strcmp(v->str, severities[i]) == 0)
			break;
	if (v->type != VT_STR || i == 5)
		return bad("decision.severity",
		           "must be one of info, low, medium, high, critical");
	ev->sev = (enum event_severity)i;

	for (i = 0; i < sizeof(opt_str) / sizeof(opt_str[0]); i++) {
		v = &sl[opt_str[i]];
		if (v->type != VT_ABSENT && v->type != VT_STR)
			return bad(slot_desc[opt_str[i]].path,
			           "must be a string");
	}
	for (i = 0; i < sizeof(opt_obj) / sizeof(opt_obj[0]); i++) {
		v = &sl[opt_obj[i]];
		if (v->type != VT_ABSENT && v->type != VT_OBJ)
			return bad(slot_desc[opt_obj[i]].path,
			           "must be an object");
	}
	for (i = 0; i < sizeof(sub_str) / sizeof(sub_str[0]); i++) {
		v = &sl[sub_str[i]];
		if (v->type != VT_ABSENT && v->type != VT_STR)
			return bad(slot_desc[sub_str[i]].path,
			           "must be a string");
	}
	v = &sl[S_RES_PORT];
	if (v->type != VT_ABSENT &&
	    (v->type != VT_INT || v->ival < 0 || v->ival > 65535))
		return bad("resource.port",
		           "must be an integer from 0 to 65535");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing. */

static size_t utf8_put(char *d, unsigned long v)
{
	if (v < 0x80) {
		d[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		d[0] = (char)(0xC0 | v >> 6);
		d[1] = (char)(0x80 | (v & 0x3F));
		return 2;
	}
	if (v < 0x10000) {
		d[0] = (char)(0xE0 | v >> 12);
		d[1] = (char)(0x80 | (v >> 6 & 0x3F));
		d[2] = (char)(0x80 | (v & 0x3F));
		return 3;
	}
	d[0] = (char)(0xF0 | v >> 18);
	d[1] = (char)(0x80 | (v >> 12 & 0x3F));
	d[2] = (char)(0x80 | (v >> 6 & 0x3F));
	d[3] = (char)(0x80 | (v & 0x3F));
	return 4;
}

/* Decode the content of a string the scanner accepted; returns its end. */
static char *unescape(char *d, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned long v;

		if (*p != '\\') {
			*d++ = (char)*p++;
			continue;
		}
		switch (p[1]) {
		case 'b':
			*d++ = '\b';
			break;
		case 'f':
			*d++ = '\f';
			break;
		case 'n':
			*d++ = '\n';
			break;
		case 'r':
			*d++ = '\r';
			break;
		case 't':
			*d++ = '\t';
			break;
		case 'u':
			v = (unsigned long)hex4(p + 2);
			if (v >= 0xD800 && v <= 0xDBFF) {
				v = 0x10000 + ((v - 0xD800) << 10) +
				    ((unsigned long)hex4(p + 8) - 0xDC00);
				p += 6;
			}
			d += utf8_put(d, v);
			p += 6;
			continue;
		default: /* " \ / */
			*d++ = (char)p[1];
			break;
		}
		p += 2;
	}
	return d;
}

/* Copy (decoding escapes) each string slot into the arena. */
static void decode_strings(struct slot *slots, char *arena)
{
	for (int i = 0; i < S_COUNT; i++) {
		struct slot *sl = &slots[i];
		char *end;

		if (sl->type != VT_STR)
			continue;
		if (sl->esc) {
			end = unescape(arena, sl->raw, sl->rawlen);
		} else {
			memcpy(arena, sl->raw, sl->rawlen);
			end = arena + sl->rawlen;
		}
		*end = '\0';
		sl->str = arena;
		sl->len = (size_t)(end - arena);
		arena = end + 1;
	}
}

static void set_fields(struct event *ev, const struct slot *sl)
{
	for (int f = 0; f < F_COUNT; f++) {
		int id = field_slot[f];
		bool set = id >= 0 && sl[id].type == VT_STR;

		ev->field[f] = set ? sl[id].str : NULL;
		ev->field_len[f] = set ? sl[id].len : 0;
	}
	ev->field[F_DECISION_ALLOWED] =
	        sl[S_DEC_ALLOWED].bval ? "true" : "false";
	ev->field_len[F_DECISION_ALLOWED] = sl[S_DEC_ALLOWED].bval ? 4 : 5;
	if (sl[S_RES_PORT].type == VT_INT) {
		/* 0..65535, validated */
		unsigned v = (unsigned)sl[S_RES_PORT].ival;
		char tmp[8], *p = tmp + sizeof(tmp);

		*--p = '\0';
		do {
			*--p = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		memcpy(ev->port, p, (size_t)(tmp + sizeof(tmp) - p));
		ev->field[F_DEST_PORT] = ev->port;
		ev->field_len[F_DEST_PORT] =
		        (size_t)(tmp + sizeof(tmp) - p) - 1;
	}
}

static struct event *event_alloc(size_t len)
{
	/* body (len + 1) then strings (at most len + 1 with their NULs). */
	struct event *ev = xmalloc(sizeof(*ev) + 2 * len + 2);

	ev->body = NULL;
	ev->body_heap = false;
	return ev;
}

/* Validate the slots into ev; frees ev on failure. */
static int
finish(struct event **out, struct event *ev, struct slot *slots, size_t len)
{
	int rc;

	decode_strings(slots, ev->mem + len + 1);
	rc = validate(ev, slots);
	if (rc) {
		event_free(ev);
		return rc;
	}
	set_fields(ev, slots);
	*out = ev;
	return 0;
}

static int parse_reference(struct event **out, const char *json, size_t len)
{
	struct slot slots[S_COUNT];
	json_error_t err;
	struct event *ev;
	json_t *root;
	int rc;

	root = json_loadb(json, len, JSON_DECODE_ANY, &err);
	if (!root) {
		relay_error_set("invalid event: (event): not valid JSON: %s at "
		                "line %d column %d",
		                err.text, err.line, err.column);
		return RELAY_EINVAL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return bad("(event)", "must be a JSON object");
	}
	ev = event_alloc(len);
	fill_slots(root, slots);
	rc = finish(&ev, ev, slots, len);
	if (rc == 0) {
		ev->body = dump_body(root, &ev->body_len);
		ev->body_heap = true;
		*out = ev;
	}
	json_decref(root);
	return rc;
}

static int check_size(struct event **out, size_t len, size_t max_bytes)
{
	*out = NULL;
	if (max_bytes && len > max_bytes) {
		relay_error_set("invalid event: (event): %zu bytes exceeds the "
		                "%zu byte limit",
		                len, max_bytes);
		return RELAY_EINVAL;
	}
	return 0;
}

int event__parse_reference(struct event **out,
                           const char *json,
                           size_t len,
                           size_t max_bytes)
{
	int rc = check_size(out, len, max_bytes);

	if (rc)
		return rc;
	return parse_reference(out, json ? json : "", len);
}

int event_parse(struct event **out,
                const char *json,
                size_t len,
                size_t max_bytes)
{
	struct slot slots[S_COUNT];
	char stack_scratch[STACK_SCRATCH], *scratch = stack_scratch;
	struct scan s;
	struct event *ev;
	int rc;

	rc = check_size(out, len, max_bytes);
	if (rc)
		return rc;
	if (!json)
		json = "";
	memset(slots, 0, sizeof(slots));
	if (len > sizeof(stack_scratch))
		scratch = xmalloc(len);
	ev = event_alloc(len);
	s.p = (const unsigned char *)json;
	s.end = s.p + len;
	s.slots = slots;
	rc = scan_event(&s, ev->mem, scratch, &ev->body_len);
	if (scratch != stack_scratch)
		free(scratch);
	if (rc) {
		/* Not for the fast path: jansson is the reference. */
		event_free(ev);
		return parse_reference(out, json, len);
	}
	ev->body = ev->mem;
	return finish(out, ev, slots, len);
}

void event_free(struct event *ev)
{
	if (!ev)
		return;
	if (ev->body_heap)
		free(ev->body);
	free(ev);
}

/* ------------------------------------------------------------------ */
/* Accessors. */

enum event_severity event_severity(const struct event *ev)
{
	return ev->sev;
}

const char *event_id_str(const struct event *ev)
{
	return ev->field[F_EVENT_ID];
}

int64_t event_time_ms(const struct event *ev)
{
	return ev->time_ms;
}

size_t event_body_len(const struct event *ev)
{
	return ev->body_len;
}

static int field_lookup(const char *name)
{
	for (int f = 0; f < F_COUNT; f++)
		if (field_names[f][0] == name[0] &&
		    strcmp(field_names[f], name) == 0)
			return f;
	return -1;
}

const char *event_field(const struct event *ev, const char *splunk_name)
{
	int f = splunk_name ? field_lookup(splunk_name) : -1;

	return f >= 0 ? ev->field[f] : NULL;
}

const char *event_field_getter(const char *field, void *arg)
{
	return event_field(arg, field);
}

const char *const *event_field_names(void)
{
	return field_names;
}

/* ------------------------------------------------------------------ */
/* Envelope.
 *
 * The envelope is written unchecked into scratch sized for the worst case
 * (every string byte escaped as \u00XX), then appended with one
 * buf_append(): cheaper than dozens of capped appends, and EFULL leaves the
 * buffer as it was for free.
 */

/* Worst-case size of s as a JSON string literal. */
static inline size_t jstr_bound(size_t n)
{
	return 2 + 6 * n;
}

/* Write s (n bytes) as a JSON string literal at o; returns the new end. */
static char *put_jstr(char *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	*o++ = '"';
	while (p < end) {
		unsigned char c;

		while (end - p >= 8) {
			uint64_t v, q, b, m;

			memcpy(&v, p, 8);
			memcpy(o, p, 8); /* room: 6 bytes per input byte */
			q = v ^ (ONES * '"');
			b = v ^ (ONES * '\\');
			/* Bytes >= 0x80 pass: strings are UTF-8. */
			m = (((q - ONES) & ~q) | ((b - ONES) & ~b) |
			     ((v - ONES * 0x20) & ~v)) &
			    HIGHS;
			if (m) {
				o += first_flagged(m);
				p += first_flagged(m);
				break;
			}
			o += 8;
			p += 8;
		}
		if (p >= end)
			break;
		c = *p++;
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hex[c >> 4];
			o[4] = hex[c & 15];
			o += 5;
			break;
		}
	}
	*o++ = '"';
	return o;
}

/* Write {"time":<seconds>.<ms> at o (at most 32 bytes). */
static char *put_time(char *o, int64_t ms)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;
	size_t n;

	for (int i = 0; i < 3; i++, u /= 10)
		*--p = (char)('0' + u % 10);
	*--p = '.';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (ms < 0)
		*--p = '-';
	memcpy(o, "{\"time\":", 8);
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(o + 8, p, n);
	return o + 8 + n;
}

static const struct meta_key {
	const char *key; /* ,"name": */
	size_t len;
} meta_keys[4] = {
        {",\"host\":", 8},
        {",\"source\":", 10},
        {",\"sourcetype\":", 14},
        {",\"index\":", 9},
};

int event_format_envelope(const struct event *ev,
                          const struct envelope_opts *opts,
                          struct buf *out)
{
	const char *meta[4] = {opts->host, opts->source, opts->sourcetype,
	                       opts->index};
	size_t meta_len[4], need = 32 + 9 + ev->body_len + 13 + 1;
	const char *const *names = opts->indexed_fields;
	char stack[8192], *tmp = stack, *o;
	int ids[F_COUNT], nids = 0, rc;

	for (int i = 0; i < 4; i++) {
		meta_len[i] = meta[i] ? strlen(meta[i]) : 0;
		if (meta_len[i])
			need += meta_keys[i].len + jstr_bound(meta_len[i]);
	}
	for (; names && *names; names++) {
		int f = field_lookup(*names);

		if (f < 0 || !ev->field[f] || nids == F_COUNT)
			continue;
		ids[nids++] = f;
		need += 4 + strlen(field_names[f]) +
		        jstr_bound(ev->field_len[f]);
	}
	if (need > sizeof(stack))
		tmp = xmalloc(need);

	o = put_time(tmp, ev->time_ms);
	for (int i = 0; i < 4; i++) {
		if (!meta_len[i])
			continue;
		memcpy(o, meta_keys[i].key, meta_keys[i].len);
		o = put_jstr(o + meta_keys[i].len, meta[i], meta_len[i]);
	}
	memcpy(o, ",\"event\":", 9);
	memcpy(o + 9, ev->body, ev->body_len);
	o += 9 + ev->body_len;
	for (int i = 0; i < nids; i++) {
		size_t n = strlen(field_names[ids[i]]);

		if (i == 0) {
			memcpy(o, ",\"fields\":{", 11);
			o += 11;
		} else {
			*o++ = ',';
		}
		*o++ = '"';
		memcpy(o, field_names[ids[i]], n);
		o += n;
		*o++ = '"';
		*o++ = ':';
		o = put_jstr(o, ev->field[ids[i]], ev->field_len[ids[i]]);
	}
	if (nids)
		*o++ = '}';
	*o++ = '}';
	rc = buf_append(out, tmp, (size_t)(o - tmp));
	if (tmp != stack)
		free(tmp);
	return rc;
}
