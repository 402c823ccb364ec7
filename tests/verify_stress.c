/*
 * verify_stress.c - the verifier against a key table that changes under it: a publisher thread
 * publishes and renews keys while the verifier thread checks records signed by them (singles
 * and bundles) and re-validates its deferred queue, and a third thread reads the counters.
 *
 * A plain program, not a Criterion test, so that it also runs under TSan (Criterion cannot
 * start there: Criterion issue #274); meson runs it in the 'concurrent' suite. It checks:
 *   - no record is accepted before its signer's key was published (the publisher raises a
 *     flag before each publish; an accepted record must find its flag raised);
 *   - every record is accepted exactly once in the end, directly or from the deferred queue,
 *     whatever the interleaving (the queue is re-validated on the table's generation);
 *   - the counters another thread reads never go backwards.
 * Exit 0 on success, 1 with a message on the first failure.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "bundle.h"
#include "keytab.h"
#include "pg_error.h"
#include "pg_time.h"
#include "record.h"
#include "rvt.h"
#include "secdata.h"
#include "verify.h"

#define GRAPH "stress-graph"

enum {
	KEYS = 12,
	SINGLES = 24, /* per key */
	BUNDLE = 8,   /* one bundle per key */
	PER_KEY = SINGLES + BUNDLE,
	RECORDS = KEYS * PER_KEY,
	ROUNDS = 6, /* times each record is offered (copies from several neighbours) */
	RUNS = 20,
};

struct key {
	uint8_t pk[32], sk[64], id[32];
	char name[64];
	_Atomic int published;
};

struct rec {
	struct pg_record r;
	int key;
	uint8_t attrs[8];
	uint8_t sd[PG_SECDATA_BUNDLE_MAX_LEN];
	uint8_t bytes[1024];
	struct pg_record view;
};

static struct key keys[KEYS];
static struct rec recs[RECORDS];
static struct pg_keytab *kt;
static struct pg_record_limits lim;
static uint8_t graph_tag[32];
static _Atomic int done;
static int accepted_once[RECORDS];

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "verify-stress: " __VA_ARGS__);                                    \
		fputc('\n', stderr);                                                               \
		exit(1);                                                                           \
	} while (0)

static void make_key(struct key *k, int n, struct pg_sha256 *sha)
{
	static const uint8_t spki[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
					  0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	uint8_t seed[32], der[44], md[20];
	unsigned int len;

	memset(seed, 0x40 + n, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	if (pg_sha256_digest2(sha, k->pk, 32, NULL, 0, k->id))
		FAIL("sha256");
	memcpy(der, spki, 12);
	memcpy(der + 12, k->pk, 32);
	if (EVP_Digest(der, sizeof(der), md, &len, EVP_sha1(), NULL) != 1)
		FAIL("sha1");
	for (int i = 0; i < 20; i++)
		sprintf(k->name + 2 * i, "%02x", md[i]);
	strcpy(k->name + 40, ".stress");
}

static void make_record(struct rec *t, int key, int n)
{
	memset(&t->r, 0, sizeof(t->r));
	t->key = key;
	t->r.version = 1;
	memcpy(t->r.id.b, &n, sizeof(n));
	t->r.id.b[15] = 0x77;
	t->r.created_us = 1000;
	t->r.modified_us = 1000;
	t->r.expires_us = 5000;
	t->r.creator = keys[key].name;
	t->r.creator_len = (uint16_t)strlen(keys[key].name);
	t->r.modifier = "";
	t->r.payload = t->attrs;
	t->r.payload_len = sizeof(t->attrs);
	memcpy(t->attrs, &n, sizeof(n));
}

static size_t canonical(const struct pg_record *r, uint8_t *msg, size_t cap)
{
	long n;

	pg_secdata_record_prefix(graph_tag, msg);
	n = pg_record_encode_canonical(r, &lim, msg + PG_SECDATA_RECORD_PREFIX_LEN,
				       cap - PG_SECDATA_RECORD_PREFIX_LEN);
	if (n <= 0)
		FAIL("encode");
	return (size_t)n;
}

static void seal(struct rec *t, size_t sd_len)
{
	long n;

	t->r.secdata = t->sd;
	t->r.secdata_len = (uint16_t)sd_len;
	n = pg_record_encode(&t->r, &lim, t->bytes, sizeof(t->bytes));
	if (n <= 0 || pg_record_decode(t->bytes, (size_t)n, &lim, &t->view))
		FAIL("seal");
}

static void sign_all(struct pg_sha256 *sha)
{
	static uint8_t proofs[BUNDLE][PG_BUNDLE_DEPTH_MAX][32];
	uint8_t msg[1024], sig[64], leaves[BUNDLE][32], root[32];
	uint8_t bmsg[PG_SECDATA_BUNDLE_MSG_LEN];

	for (int k = 0; k < KEYS; k++) {
		struct rec *base = &recs[k * PER_KEY];

		for (int i = 0; i < SINGLES; i++) {
			struct pg_secdata sd = { .kind = PG_SECDATA_SINGLE,
						 .key_id = keys[k].id,
						 .sig = sig };
			size_t n;

			make_record(&base[i], k, k * PER_KEY + i);
			n = canonical(&base[i].r, msg, sizeof(msg));
			crypto_sign_detached(sig, NULL, msg, PG_SECDATA_RECORD_PREFIX_LEN + n,
					     keys[k].sk);
			pg_secdata_encode(&sd, base[i].sd, sizeof(base[i].sd));
			seal(&base[i], PG_SECDATA_SINGLE_LEN);
		}
		for (int i = 0; i < BUNDLE; i++) {
			struct rec *t = &base[SINGLES + i];
			size_t n;

			make_record(t, k, k * PER_KEY + SINGLES + i);
			n = canonical(&t->r, msg, sizeof(msg));
			pg_bundle_leaf_hash(sha, msg + PG_SECDATA_RECORD_PREFIX_LEN, n, leaves[i]);
		}
		if (pg_bundle_build(sha, (const uint8_t(*)[32])leaves, BUNDLE, root, proofs))
			FAIL("bundle");
		pg_secdata_bundle_msg(graph_tag, BUNDLE, root, bmsg);
		crypto_sign_detached(sig, NULL, bmsg, sizeof(bmsg), keys[k].sk);
		for (int i = 0; i < BUNDLE; i++) {
			struct rec *t = &base[SINGLES + i];
			struct pg_secdata sd = { .kind = PG_SECDATA_BUNDLE,
						 .leaf_index = (uint16_t)i,
						 .bundle_size = BUNDLE,
						 .nproof = (uint8_t)pg_bundle_path_len(i, BUNDLE),
						 .key_id = keys[k].id,
						 .sig = sig,
						 .root = root,
						 .proof = proofs[i][0] };
			long len = pg_secdata_encode(&sd, t->sd, sizeof(t->sd));

			if (len <= 0)
				FAIL("bundle secdata");
			seal(t, (size_t)len);
		}
	}
}

/* The publisher: each key published (flag first), then renewed twice, a little apart. */
static void *publisher(void *arg)
{
	(void)arg;
	for (int k = 0; k < KEYS; k++) {
		/* Release: an accepted record's reader sees the flag (acquire) if it saw the key.
		 */
		atomic_store_explicit(&keys[k].published, 1, memory_order_release);
		if (pg_keytab_publish(kt, keys[k].id, keys[k].pk, PG_KEYTAB_ROLE_MEMBER, 0,
				      1000000))
			FAIL("publish %d", k);
		usleep(300);
		if (pg_keytab_update(kt, keys[k].id, 0, 2000000))
			FAIL("update %d", k);
	}
	return NULL;
}

static struct verify *verifier_for_stats;

static void *stats_reader(void *arg)
{
	uint64_t last = 0;

	(void)arg;
	while (!atomic_load_explicit(&done, memory_order_acquire)) {
		struct verify_stats s;

		verify_stats_read(verifier_for_stats, &s);
		if (s.accepted < last)
			FAIL("accepted went back: %llu < %llu", (unsigned long long)s.accepted,
			     (unsigned long long)last);
		last = s.accepted;
	}
	return NULL;
}

static struct rvt_thread *th;

static void body_free(void *ctx, const struct pg_record *b)
{
	(void)ctx;
	(void)b; /* bodies are the views in recs[] */
}

static void accepted(const struct pg_record *rec)
{
	int idx;

	memcpy(&idx, rec->id.b, sizeof(idx));
	if (idx < 0 || idx >= RECORDS)
		FAIL("unknown record accepted");
	if (!atomic_load_explicit(&keys[recs[idx].key].published, memory_order_acquire))
		FAIL("record %d accepted before its key was published", idx);
	if (accepted_once[idx]++)
		FAIL("record %d accepted twice", idx);
	if (rvt_raise(th, pg_record_key_of(pg_graph_key(GRAPH, strlen(GRAPH)), rec),
		      &recs[idx].view))
		FAIL("raise %d", idx);
}

static void on_accept(void *ctx, const struct pg_record *rec)
{
	(void)ctx;
	accepted(rec);
}

/* One run: fresh tables, keys published from scratch while records arrive in rng's order. */
static void run_once(uint64_t rng, struct verify_stats *s)
{
	struct rvt_config rc = { .capacity = 4096, .max_threads = 1, .body_free = body_free };
	struct verify_config vc = { .graph_id = GRAPH, .graph_id_len = strlen(GRAPH) };
	struct verify *v;
	pthread_t pub, rd;
	struct rvt *rvt;

	memset(accepted_once, 0, sizeof(accepted_once));
	for (int k = 0; k < KEYS; k++)
		atomic_store_explicit(&keys[k].published, 0, memory_order_relaxed);
	atomic_store_explicit(&done, 0, memory_order_relaxed);
	if (pg_keytab_create(NULL, 64, &kt) || rvt_create(&rc, &rvt) ||
	    rvt_thread_register(rvt, &th))
		FAIL("tables");
	vc.keytab_fd = pg_keytab_fd(kt);
	vc.rvt = th;
	vc.defer_max = RECORDS * ROUNDS;
	vc.defer_timeout_us = 600 * PG_USEC_PER_SEC;
	if (verify_create(&vc, &v))
		FAIL("verify_create");
	verifier_for_stats = v;
	if (pthread_create(&rd, NULL, stats_reader, NULL) ||
	    pthread_create(&pub, NULL, publisher, NULL))
		FAIL("threads");

	/* the records arrive ROUNDS times each, in a random order, while keys appear */
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < RECORDS; i++) {
			const struct pg_record *r;
			int err;

			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			r = &recs[rng % RECORDS].view;
			err = verify_record(v, r, pg_mono_ns() / 1000);
			if (err == 0)
				accepted(r);
			else if (err != PG_E_STALE && err != PG_E_SIG_DEFERRED)
				FAIL("record rejected: %s", pg_strerror(err));
			verify_deferred_run(v, pg_mono_ns() / 1000, on_accept, NULL);
			rvt_quiescent(th);
		}
	}
	pthread_join(pub, NULL);
	/* every key is out: the queue drains, and every record is there exactly once */
	for (int i = 0; i < RECORDS; i++)
		if (verify_record(v, &recs[i].view, pg_mono_ns() / 1000) == 0)
			accepted(&recs[i].view);
	verify_deferred_run(v, pg_mono_ns() / 1000, on_accept, NULL);
	verify_stats_read(v, s);
	atomic_store_explicit(&done, 1, memory_order_release);
	pthread_join(rd, NULL);
	for (int i = 0; i < RECORDS; i++)
		if (accepted_once[i] != 1)
			FAIL("record %d accepted %d times", i, accepted_once[i]);
	if (s->queue_len != 0 || s->rejected != 0 || s->accepted != RECORDS)
		FAIL("queue %llu, rejected %llu, accepted %llu", (unsigned long long)s->queue_len,
		     (unsigned long long)s->rejected, (unsigned long long)s->accepted);
	verify_destroy(v);
	rvt_thread_unregister(th);
	rvt_destroy(rvt);
	pg_keytab_destroy(kt);
}

int main(void)
{
	uint64_t from_queue = 0, revalidations = 0;
	struct pg_sha256 *sha;
	struct verify_stats s;

	if (sodium_init() < 0 || pg_sha256_create(&sha) ||
	    pg_bundle_graph_tag(sha, GRAPH, strlen(GRAPH), graph_tag))
		FAIL("crypto init");
	pg_record_limits_default(&lim);
	for (int k = 0; k < KEYS; k++)
		make_key(&keys[k], k, sha);
	sign_all(sha);
	for (int run = 0; run < RUNS; run++) {
		run_once(88172645463325252ull + (uint64_t)run * 0x9e3779b97f4a7c15ull, &s);
		from_queue += s.accepted_deferred;
		revalidations += s.revalidations;
	}
	printf("verify-stress: %d runs of %d records: all accepted once; %llu from the queue, "
	       "%llu re-validations\n",
	       RUNS, RECORDS, (unsigned long long)from_queue, (unsigned long long)revalidations);
	if (from_queue == 0)
		FAIL("no record went through the queue: the test did not test deferral");
	pg_sha256_destroy(sha);
	return 0;
}
