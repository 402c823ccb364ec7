/*
 * verify_defer.c - the verifier's deferred queue: records whose signer's key is not in the key
 * table yet wait here, bounded, until the key appears or their time is up (verify.h).
 *
 * MS-PPGRH's security provider answers a record with accept, reject or defer, and re-checks
 * deferred records when what they lacked arrives; the deferred list is cleaned every 30 s
 * (FEATURES.md §1). Here:
 *
 * - A deferred record is copied whole (its encoding; the view the caller passed points into a
 *   receive buffer that is about to be reused). The queue is bounded twice, by records and by
 *   bytes; over either bound the record is dropped and counted (queue_full). A copy already
 *   queued is not queued again (a record flooded by three neighbours waits once).
 * - Entries sit in a ring in arrival order. Every entry waits the same timeout, so with a
 *   clock that does not go back their deadlines ascend from the head: the time-out pass pops
 *   from the head and costs nothing while nothing is due. That pass runs at every
 *   verify_deferred_run(), so a record leaves at its timeout, not up to 30 s after it.
 * - Re-validation runs when the key table's generation moved since the last pass: a key was
 *   published, renewed or revoked. One acquire load answers "nothing changed"; otherwise every
 *   queued record runs the whole check again from the version table on (a newer copy may have
 *   been stored meanwhile), and those that still lack their key stay, in order. Leaving
 *   entries leave holes that the same pass closes (a stable compaction).
 *
 * Why the generation is enough: the pass reads the generation g before its lookups, and
 * keytab.h promises that lookups made after reading g see every write counted up to g. A
 * record deferred later by this thread had its lookup after that read too; so a key it missed
 * was published later, with a generation above g, and the next pass sees the change.
 *
 * LIMITATIONS: the duplicate check scans the queue's keys (16 bytes per entry, contiguous with
 * the rest of the entry): with the default bound of 1024 records, about a microsecond per
 * deferred record, paid only by records that skipped a signature check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "verify_impl.h"

int verify_defer_init(struct verify *v, const struct verify_config *cfg)
{
	v->q_max = cfg->defer_max ? cfg->defer_max : VERIFY_DEFER_MAX_DEFAULT;
	v->q_bytes_max = cfg->defer_bytes_max ? cfg->defer_bytes_max : VERIFY_DEFER_BYTES_DEFAULT;
	v->timeout_us =
	    cfg->defer_timeout_us ? cfg->defer_timeout_us : VERIFY_DEFER_TIMEOUT_DEFAULT;
	v->q = calloc(v->q_max, sizeof(*v->q));
	return v->q ? 0 : -ENOMEM;
}

static struct defer_entry *at(struct verify *v, uint32_t i)
{
	PG_DEBUG_ASSERT(i < v->q_used);
	return &v->q[(v->q_head + i) % v->q_max];
}

/* Removes a record from the queue; its position becomes a hole. */
static void drop(struct verify *v, struct defer_entry *e)
{
	PG_ASSERT(e->bytes && v->q_len > 0 && v->q_bytes >= e->len);
	free(e->bytes);
	e->bytes = NULL;
	v->q_len--;
	v->q_bytes -= e->len;
}

void verify_defer_fini(struct verify *v)
{
	if (!v->q)
		return;
	for (uint32_t i = 0; i < v->q_used; i++)
		free(at(v, i)->bytes);
	free(v->q);
	v->q = NULL;
}

static void gauges(struct verify *v)
{
	verify_gauge(v, C_QUEUE_LEN, v->q_len);
	verify_gauge(v, C_QUEUE_BYTES, v->q_bytes);
}

/* Closes the holes, keeping the arrival order (and so the ascending deadlines). */
static void compact(struct verify *v)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < v->q_used; i++) {
		struct defer_entry *e = at(v, i);

		if (e->bytes && i != j)
			v->q[(v->q_head + j) % v->q_max] = *e;
		j += e->bytes != NULL;
	}
	v->q_used = j;
	PG_ASSERT(v->q_used == v->q_len);
}

static bool queued(struct verify *v, struct pg_key key, const uint8_t *bytes, size_t len)
{
	for (uint32_t i = 0; i < v->q_used; i++) {
		const struct defer_entry *e = at(v, i);

		if (e->bytes && pg_key_eq(e->key, key) && e->len == len &&
		    memcmp(e->bytes, bytes, len) == 0)
			return true;
	}
	return false;
}

int verify_defer_push(struct verify *v, const struct pg_record *rec, struct pg_key key,
		      uint64_t now_us)
{
	size_t len = pg_record_encoded_size(rec);
	struct defer_entry *e;
	uint8_t *bytes;
	long n;

	if (v->q_len == v->q_max || len > v->q_bytes_max - v->q_bytes)
		return PG_E_SIG_QUEUE_FULL;
	bytes = malloc(len);
	if (!bytes)
		return PG_E_SIG_QUEUE_FULL; /* out of memory is this bound too */
	n = pg_record_encode(rec, &v->lim, bytes, len);
	if (n != (long)len) { /* outside this verifier's limits (the caller decoded with others) */
		free(bytes);
		return n < 0 ? (int)n : PG_E_SIG_MALFORMED;
	}
	if (queued(v, key, bytes, len)) {
		free(bytes);
		return PG_E_STALE;
	}
	if (v->q_used == v->q_max)
		compact(v); /* q_len < q_max: there is a hole to reclaim */
	v->q_used++;
	e = at(v, v->q_used - 1);
	e->key = key;
	e->deadline_us = now_us + v->timeout_us;
	e->bytes = bytes;
	e->len = (uint32_t)len;
	v->q_len++;
	v->q_bytes += len;
	gauges(v);
	return PG_E_SIG_DEFERRED;
}

/* One queued record against the key table as it is now; true when it leaves the queue. */
static bool revalidate(struct verify *v, struct defer_entry *e, verify_accept_fn fn, void *ctx,
		       unsigned *accepted)
{
	struct pg_record rec;
	int err;

	/* we encoded it under the same limits after verify_judge checked what the encoder does
	 * not, so this decodes; were it not to, the record is refused, never the node stopped */
	err = pg_record_decode(e->bytes, e->len, &v->lim, &rec);
	if (err) {
		verify_count_outcome(v, err, true);
		return true;
	}
	if (verify_held(v, &rec, e->key)) {
		verify_count(v, C_DUP);
		return true;
	}
	err = verify_judge(v, &rec);
	if (err == PG_E_SIG_DEFERRED)
		return false;
	verify_count_outcome(v, err, true);
	if (err == 0) {
		(*accepted)++;
		if (fn)
			fn(ctx, &rec);
	}
	return true;
}

/* Drops the records that waited their timeout: they are at the head. */
static void expire(struct verify *v, uint64_t now_us)
{
	while (v->q_used > 0) {
		struct defer_entry *e = at(v, 0);

		if (e->bytes && e->deadline_us > now_us)
			break;
		if (e->bytes) {
			drop(v, e);
			verify_count(v, C_REJECT + VERIFY_UNKNOWN_KEY);
		}
		v->q_head = (v->q_head + 1) % v->q_max;
		v->q_used--;
	}
}

unsigned verify_deferred_run(struct verify *v, uint64_t now_us, verify_accept_fn fn, void *ctx)
{
	uint64_t gen = pg_keytab_generation(v->kt); /* before the lookups (see above) */
	unsigned accepted = 0;

	if (gen != v->seen_gen && v->q_len > 0) {
		verify_count(v, C_REVALIDATION);
		for (uint32_t i = 0; i < v->q_used; i++) {
			struct defer_entry *e = at(v, i);

			if (e->bytes && revalidate(v, e, fn, ctx, &accepted))
				drop(v, e);
		}
		compact(v);
	}
	v->seen_gen = gen;
	expire(v, now_us);
	gauges(v);
	return accepted;
}
