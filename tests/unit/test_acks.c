/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "acks.h"
#include "unit.h"

#define G1 "11111111-1111-4111-8111-111111111111"
#define G2 "22222222-2222-4222-8222-222222222222"

static void test_acks__poll_soon_then_back_off(void)
{
	struct acks *a = acks_new(50, 1000, 300000);
	int ch = acks_channel(a, 0, G1);
	uint64_t *ids = NULL, epoch;
	int64_t *b = NULL, *t = NULL;
	size_t n;
	bool f = false;

	CHECK_INT(acks_channel(a, 0, G1), ch);
	CHECK(acks_channel(a, 1, G1) != ch);
	acks_add(a, ch, 0, 100, 500, 1000, 1000);
	CHECK_INT(acks_next_deadline(a), 1050);
	CHECK_INT(acks_next_poll(a, 1049, &ids, &n, &epoch), -1);
	CHECK_INT(acks_next_poll(a, 1050, &ids, &n, &epoch), ch);
	CHECK_INT(n, 1);
	CHECK_INT(ids[0], 0);
	/* Polling: no second poll of the same channel until it answers. */
	CHECK_INT(acks_next_poll(a, 5000, &ids, &n, &epoch), -1);
	CHECK_INT(acks_poll_done(a, ch, epoch, ids, &f, 1, 1060, &b, &t), 0);
	free(ids);
	/* Nothing acked: the delay doubles (50 -> 100). */
	CHECK_INT(acks_next_deadline(a), 1160);
	acks_free(a);
}

static void test_acks__true_delivers_once(void)
{
	struct acks *a = acks_new(10, 100, 300000);
	int ch = acks_channel(a, 0, G1);
	uint64_t *ids = NULL, epoch;
	int64_t *b = NULL, *t = NULL;
	bool answer[3] = {true, false, true};
	uint64_t asked[3] = {0, 1, 2};
	size_t n;

	acks_add(a, ch, 0, 10, 5, 0, 0);
	acks_add(a, ch, 1, 11, 5, 0, 0);
	acks_add(a, ch, 2, 12, 5, 0, 0);
	CHECK_INT(acks_pending_batches(a), 3);
	CHECK_INT(acks_pending_events(a), 15);
	CHECK_INT(acks_next_poll(a, 10, &ids, &n, &epoch), ch);
	CHECK_INT(n, 3);
	free(ids);
	CHECK_INT(acks_poll_done(a, ch, epoch, asked, answer, 3, 20, &b, &t),
	          2);
	CHECK_INT(b[0], 10);
	CHECK_INT(b[1], 12);
	CHECK_INT(t[0], 0);
	free(b);
	free(t);
	CHECK_INT(acks_pending_batches(a), 1);
	acks_free(a);
}

static void test_acks__timeout(void)
{
	struct acks *a = acks_new(10, 100, 1000);
	int ch = acks_channel(a, 0, G1);
	int64_t *b = NULL;

	acks_add(a, ch, 0, 10, 1, 0, 0);
	acks_add(a, ch, 1, 11, 1, 500, 500);
	CHECK_INT(acks_take_expired(a, 999, &b), 0);
	free(b);
	CHECK_INT(acks_take_expired(a, 1000, &b), 1);
	CHECK_INT(b[0], 10);
	free(b);
	CHECK_INT(acks_pending_batches(a), 1);
	acks_free(a);
}

/* A reissued id is not credited; after retiring, nothing on the channel
 * is credited and answers to polls sent before are ignored. */
static void test_acks__reset_is_refused_and_retire_ignores_old_answers(void)
{
	struct acks *a = acks_new(10, 100, 300000);
	int ch = acks_channel(a, 0, G1), ch2 = acks_channel(a, 0, G2);
	uint64_t *ids = NULL, epoch, asked[1] = {0};
	int64_t *b = NULL, *t = NULL;
	size_t nb = 0;
	bool yes = true;
	size_t n;

	CHECK(acks_add(a, ch, 0, 10, 1, 0, 0));
	CHECK(acks_add(a, ch, 1, 11, 1, 0, 0));
	CHECK(acks_add(a, ch2, 0, 20, 1, 0, 0));
	CHECK_INT(acks_next_poll(a, 10, &ids, &n, &epoch), ch);
	free(ids);
	/* HEC restarted: id 0 again on the same channel. */
	CHECK(!acks_add(a, ch, 0, 12, 1, 15, 15));
	acks_batches(a, ch, &b, &nb);
	CHECK_INT(nb, 2);
	CHECK_INT(b[0], 10);
	CHECK_INT(b[1], 11);
	free(b);
	acks_retire(a, ch);
	CHECK(acks_retired(a, ch));
	/* The answer to the poll sent before the retirement is ignored... */
	CHECK_INT(acks_poll_done(a, ch, epoch, asked, &yes, 1, 20, &b, &t), 0);
	/* ...no new id is credited on the channel... */
	CHECK(!acks_add(a, ch, 7, 13, 1, 20, 20));
	/* ...and the other channel was not affected. */
	CHECK_INT(acks_pending_batches(a), 1);
	CHECK(acks_forget(a, 20));
	CHECK(!acks_forget(a, 20));
	CHECK_INT(acks_pending_batches(a), 0);
	acks_free(a);
}

/* Concurrent requests on one channel: their answers (ack ids) may be
 * processed out of order; that is not a reset. */
static void test_acks__out_of_order_ids_are_not_a_reset(void)
{
	struct acks *a = acks_new(10, 100, 300000);
	int ch = acks_channel(a, 0, G1);

	CHECK(acks_add(a, ch, 3, 13, 1, 0, 0));
	CHECK(acks_add(a, ch, 1, 11, 1, 0, 0));
	CHECK(acks_add(a, ch, 2, 12, 1, 0, 0));
	CHECK(acks_add(a, ch, 0, 10, 1, 0, 0));
	CHECK_INT(acks_pending_batches(a), 4);
	/* An id far below the highest one is a reset. */
	CHECK(acks_add(a, ch, 1000, 14, 1, 0, 0));
	CHECK(!acks_add(a, ch, 5, 15, 1, 0, 0));
	CHECK_INT(acks_pending_batches(a), 5);
	acks_free(a);
}

/* A true is credited only once every request that was unanswered when it
 * came has been answered: one of them may hold the same id (a reset, or
 * another indexer behind a non-sticky balancer). */
static void test_acks__true_waits_for_open_requests(void)
{
	struct acks *a = acks_new(10, 100, 300000);
	int ch = acks_channel(a, 0, G1);
	uint64_t *ids = NULL, epoch, asked[1] = {0}, s1, s2, s3;
	int64_t *b = NULL, *t = NULL;
	bool yes = true;
	size_t n;

	s1 = acks_request_started(a, ch);
	CHECK(acks_add(a, ch, 0, 10, 1, 0, 0));
	CHECK_INT(acks_request_done(a, ch, s1, &b, &t), 0);
	s2 = acks_request_started(a, ch); /* answer not in yet */
	CHECK_INT(acks_next_poll(a, 10, &ids, &n, &epoch), ch);
	free(ids);
	CHECK_INT(acks_poll_done(a, ch, epoch, asked, &yes, 1, 20, &b, &t), 0);
	CHECK_INT(acks_pending_batches(a), 1);
	/* Held: not asked again. */
	CHECK_INT(acks_next_poll(a, 1000, &ids, &n, &epoch), -1);
	/* A request started after the true came cannot contradict it. */
	s3 = acks_request_started(a, ch);
	CHECK(acks_add(a, ch, 1, 11, 1, 30, 30));
	CHECK_INT(acks_request_done(a, ch, s2, &b, &t), 1);
	CHECK_INT(b[0], 10);
	free(b);
	free(t);
	CHECK_INT(acks_request_done(a, ch, s3, &b, &t), 0);
	acks_free(a);
}

static void test_acks__held_true_dies_with_the_channel(void)
{
	struct acks *a = acks_new(10, 100, 300000);
	int ch = acks_channel(a, 0, G1);
	uint64_t *ids = NULL, epoch, asked[1] = {0}, s1, s2;
	int64_t *b = NULL, *t = NULL;
	bool yes = true;
	size_t n;

	s1 = acks_request_started(a, ch);
	CHECK(acks_add(a, ch, 0, 10, 1, 0, 0));
	CHECK_INT(acks_request_done(a, ch, s1, &b, &t), 0);
	s2 = acks_request_started(a, ch);
	CHECK_INT(acks_next_poll(a, 10, &ids, &n, &epoch), ch);
	free(ids);
	CHECK_INT(acks_poll_done(a, ch, epoch, asked, &yes, 1, 20, &b, &t), 0);
	/* The open request's answer: id 0 again.  The true was its. */
	CHECK(!acks_add(a, ch, 0, 11, 1, 30, 30));
	acks_retire(a, ch);
	CHECK_INT(acks_request_done(a, ch, s2, &b, &t), 0);
	CHECK_INT(acks_pending_batches(a), 0);
	acks_free(a);
}

int main(void)
{
	UNIT_RUN(test_acks__poll_soon_then_back_off);
	UNIT_RUN(test_acks__true_delivers_once);
	UNIT_RUN(test_acks__timeout);
	UNIT_RUN(test_acks__reset_is_refused_and_retire_ignores_old_answers);
	UNIT_RUN(test_acks__out_of_order_ids_are_not_a_reset);
	UNIT_RUN(test_acks__true_waits_for_open_requests);
	UNIT_RUN(test_acks__held_true_dies_with_the_channel);
	return unit_finish();
}
