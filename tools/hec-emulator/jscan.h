/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jscan: a validating JSON scanner that builds nothing.
 *
 * Why not jansson here: jansson builds a tree with an allocation per value
 * and parses about 44 MB/s per core on this machine, too slow to ingest
 * 100,000 envelopes of 800 bytes a second on two cores.  HEC only needs to
 * know, per envelope, whether the JSON is valid (RFC 8259, UTF-8 checked,
 * the same acceptance as jansson's decoder, see scan_diff.c), where its
 * top-level members are, their types, and whether `fields` is flat.
 * Values are then copied verbatim into the output, so no re-serialisation
 * is needed either.  jansson is still used wherever a value must be
 * decoded (escaped strings, ack bodies, the control API).
 *
 * Deliberate differences from jansson: integers beyond 64 bits, reals that
 * overflow a double and \u0000 are accepted (Splunk keeps them as text).
 * Nesting is limited to JSCAN_MAX_DEPTH like jansson's parser.
 */
#ifndef HEC_JSCAN_H
#define HEC_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSCAN_MAX_DEPTH 2048
#define JSCAN_MAX_MEMBERS 32

enum jtype {
	JT_NONE = 0,
	JT_OBJECT,
	JT_ARRAY,
	JT_STRING,
	JT_NUMBER,
	JT_TRUE,
	JT_FALSE,
	JT_NULL
};

/* A value's span in the input (for strings, including the quotes). */
struct jval {
	const char *p;
	size_t len;
	enum jtype type;
	/* Objects: every member is a scalar or a flat array.  Arrays: every
	 * element is a scalar.  Scalars: true. */
	bool flat;
	/* Strings: contains a backslash escape (decode before comparing). */
	bool escaped;
};

struct jmember {
	struct jval key;
	struct jval val;
};

/* An object's top-level members, as found by jscan_object(). */
struct jobject {
	struct jval self;
	struct jmember m[JSCAN_MAX_MEMBERS];
	size_t n;       /* members stored in m */
	size_t n_total; /* members in the object (may exceed n) */
};

/* First byte at or after p that is not JSON whitespace (or end). */
const char *jscan_ws(const char *p, const char *end);

/*
 * Validate one JSON value starting exactly at p.  Returns 0 and fills *out
 * (out->p == p, out->len = bytes of the value) or -1 on a syntax error.
 */
int jscan_value(const char *p, const char *end, struct jval *out);

/*
 * Validate one JSON object starting exactly at p and record its top-level
 * members.  Returns 0, or -1 when the text is not a valid object.
 */
int jscan_object(const char *p, const char *end, struct jobject *out);

/* True when a string span (with quotes) equals the plain C string s. */
bool jscan_str_eq(const struct jval *v, const char *s);

#endif
