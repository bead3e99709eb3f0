/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the configuration loader: arbitrary bytes as
 * relay.yaml.  Any result is fine as long as it neither crashes, leaks nor
 * trips a sanitizer; a loaded config must also survive the summary, the
 * delivery check and the reload comparison.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char *text = malloc(size + 1);
	struct buf b;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(&c, text, "fuzz.yaml") == 0) {
		buf_init(&b, 0);
		if (config_redacted_summary(c, &b) != 0)
			abort();
		(void)config_reload_blockers(c, c, &b);
		buf_dispose(&b);
		(void)!config_check_delivery(c);
		config_free(c);
	}
	free(text);
	return 0;
}
