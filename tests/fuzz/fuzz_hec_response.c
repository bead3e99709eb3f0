/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for HEC answers: arbitrary bytes as a response body,
 * then classified under a status taken from the input, so the parser and
 * the classifier both see every shape a broken proxy could send.
 */
#include <stdint.h>
#include <stdlib.h>

#include "hec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {0, 200, 400, 401, 404, 413, 429, 503};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hec_response r;
	long status = statuses[size ? data[0] % 8 : 0];
	enum hec_outcome o;

	if (hec_response_parse(&r, (const char *)data, size) != 0 &&
	    (r.code != -1 || r.n_acks || r.ack_ids))
		abort(); /* a failed parse must leave an empty answer */
	if (r.n_acks && (!r.ack_ids || !r.acked))
		abort();
	if (r.text[sizeof(r.text) - 1] != '\0')
		abort();
	o = hec_classify(status, size & 1, &r);
	if (!hec_outcome_name(o)[0])
		abort();
	hec_response_dispose(&r);
	return 0;
}
