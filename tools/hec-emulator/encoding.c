/* SPDX-License-Identifier: Apache-2.0 */
/* encoding: see encoding.h. */
#include "encoding.h"

#include <strings.h>

enum encoding gzip_encoding(const char *header)
{
	if (!header || !*header || !strcasecmp(header, "identity"))
		return ENCODING_IDENTITY;
	if (!strcasecmp(header, "gzip") || !strcasecmp(header, "x-gzip"))
		return ENCODING_GZIP;
	return ENCODING_UNSUPPORTED;
}
