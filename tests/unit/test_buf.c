/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "unit.h"
#include "util/buf.h"

static void test_buf__append_and_cap(void)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK_INT(buf_puts(&b, "abcd"), 0);
	CHECK_INT(buf_printf(&b, "%d", 123), 0);
	CHECK_STR(b.data, "abcd123");
	/* Two more bytes would pass the cap: refused, buffer unchanged. */
	CHECK_INT(buf_puts(&b, "xy"), RELAY_EFULL);
	CHECK_STR(b.data, "abcd123");
	CHECK_INT(b.len, 7);
	CHECK_INT(buf_puts(&b, "z"), 0);
	CHECK_INT(b.len, 8);
	buf_dispose(&b);
}

static void test_buf__truncate_take(void)
{
	struct buf b;
	size_t n;
	char *p;

	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		CHECK_INT(buf_puts(&b, "0123456789"), 0);
	CHECK_INT(b.len, 10000);
	buf_truncate(&b, 5);
	CHECK_STR(b.data, "01234");
	p = buf_take(&b, &n);
	CHECK_INT(n, 5);
	CHECK_STR(p, "01234");
	CHECK(b.data == NULL && b.len == 0);
	free(p);
}

int main(void)
{
	UNIT_RUN(test_buf__append_and_cap);
	UNIT_RUN(test_buf__truncate_take);
	return unit_finish();
}
