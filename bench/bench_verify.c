/*
 * bench_verify.c - record verification: the Ed25519 ceiling, our path, bundles, duplicates.
 *
 * Claims under test (DESIGN.md, "Security" and "Which Ed25519"; issue 3):
 *   - raw Ed25519 verification on this core, OpenSSL 3.0 (EVP_DigestVerify, key and context
 *     made once) and libsodium (crypto_sign_verify_detached); "the ceiling" is the faster;
 *   - our per-record path end to end (verify_burst, 32 records a call as from one receive
 *     burst: record key, version-table miss, decode of the security data, key-table lookup,
 *     message build, Ed25519, window and role checks) reaches >= 90% of the ceiling;
 *   - bundles of 16, 64 and 256 records arriving bundle by bundle, the root cache cold for each
 *     bundle (one Ed25519 check per bundle, then proofs): >= 20x the per-record rate at 64;
 *   - duplicates, i.e. copies of records we already hold, rejected by the version table
 *     without any verification: >= 10 M/s per core, with 1 M records held;
 *   - late copies of records that expired, rejected the same way from the version their key
 *     remembers (issue 12: each used to cost a full verification).
 *
 * Everything runs in one process, pinned to the core it started on, in this order, on the same
 * signed records: 512 records by 8 members (single signatures), and per bundle size enough
 * bundles for 16 K records, all signed by the control plane's signer (controlplane/sign.h).
 * The version table holds 1 M other records (their bodies in one arena on 2 MiB pages, as the
 * store keeps them); the duplicates are exact copies of held records at random keys, decoded
 * into views beforehand, as the receive path would. Each rate is the best of `rounds` timed
 * runs of `secs` seconds each, the rounds of figures that are compared interleaved. The output
 * ends with one `summary:` line.
 */
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "identity.h"
#include "keytab.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"
#include "record.h"
#include "rvt.h"
#include "secdata.h"
#include "sign.h"
#include "verify.h"

#define GRAPH "bench-graph"
#define T0    1700000000000000ull

enum {
	MEMBERS = 8,
	SINGLES = 512,
	BUNDLE_RECORDS = 16384, /* per bundle size */
	HELD = 1000000,		/* records the version table holds */
	DUPS = 1 << 18,		/* duplicate copies offered, cycled */
	BURST = 32,
	RX_BURST = 256, /* records of one receive burst (a GRO batch of datagrams) */
	ROOT_CACHE = 4, /* fewer ways than bundles in flight: each bundle arrives cold */
};

static const unsigned bundle_sizes[] = { 16, 64, 256 };

struct rec {
	struct pg_record view;
	uint8_t *bytes; /* encoded record; view points into it */
	size_t len;
};

static struct bench {
	bool quick;
	double secs;
	int rounds;
	int cpu;
	char tmp[64];
	struct pg_identity_store *st;
	struct pg_identity *ids[MEMBERS];
	struct pg_signer *signers[MEMBERS];
	struct pg_keytab *kt;
	struct rvt *rvt;
	struct rvt_thread *th;
	struct pg_record_limits lim;
	uint64_t graph_key;
	struct rec singles[SINGLES];
	struct rec *bundles[PG_ARRAY_SIZE(bundle_sizes)];
	uint8_t *arena; /* held bodies */
	size_t arena_len;
	struct pg_record *dups; /* views of duplicate copies */
	uint8_t *dup_bytes;
} b;

/* ---- set-up --------------------------------------------------------------------------------- */

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-verify: %s: %s\n", what, pg_strerror(err));
	exit(1);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void pin(void)
{
	cpu_set_t set;

	b.cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(b.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		perror("bench-verify: sched_setaffinity (continuing unpinned)");
}

static void members_create(void)
{
	struct pg_identity_create_opts o = { .flags = PG_IDENTITY_NOT_DEFAULT,
					     .not_before =
						 (int64_t)(T0 / PG_USEC_PER_SEC) - 86400 };
	struct pg_signer_config sc = { .graph_id = GRAPH, .graph_id_len = strlen(GRAPH) };
	char dir[96], name[PG_PEERNAME_SIZE], cls[16];
	int err;

	strcpy(b.tmp, "/tmp/pg-bench-verify-XXXXXX");
	PG_ASSERT(mkdtemp(b.tmp));
	snprintf(dir, sizeof(dir), "%s/store", b.tmp);
	if ((err = pg_identity_store_open(dir, &b.st)))
		die("identity store", err);
	if ((err = pg_keytab_create(NULL, 64, &b.kt)))
		die("key table", err);
	for (int i = 0; i < MEMBERS; i++) {
		snprintf(cls, sizeof(cls), "member%d", i);
		if ((err = pg_identity_create(b.st, cls, NULL, &o, name)) ||
		    (err = pg_identity_open(b.st, name, &b.ids[i])) ||
		    (err = pg_signer_create(b.ids[i], &sc, &b.signers[i])))
			die("identity", err);
		err = pg_keytab_publish(b.kt, pg_identity_key_id(b.ids[i]),
					pg_identity_public_key(b.ids[i]),
					i == 0 ? PG_KEYTAB_ROLE_ADMIN : PG_KEYTAB_ROLE_MEMBER,
					T0 - 86400 * PG_USEC_PER_SEC, UINT64_MAX);
		if (err)
			die("publish", err);
	}
}

/* A typical record: version 2 updated by its creator, two attributes, 32-byte payload. */
static void record_init(struct pg_record *r, uint8_t *attrs, size_t attrs_cap, const char *who,
			uint64_t n)
{
	static const uint8_t payload[32] = "0123456789abcdef0123456789abcdef";
	struct pg_attr a[2] = {
		{ .name = "seq", .name_len = 3, .type = PG_ATTR_INT, .v.i = (int64_t)n },
		{ .name = "title",
		  .name_len = 5,
		  .type = PG_ATTR_STRING,
		  .v.str = { .ptr = "bench record", .len = 12 } },
	};
	long alen = pg_attrs_encode(a, 2, attrs, attrs_cap);

	PG_ASSERT(alen > 0);
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 16; i++)
		r->type.b[i] = (uint8_t)i;
	memcpy(r->id.b, &n, sizeof(n));
	r->id.b[8] = 0x5a;
	r->version = 2;
	r->nattrs = 2;
	r->created_us = T0;
	r->modified_us = T0 + 1;
	r->expires_us = T0 + 3600 * PG_USEC_PER_SEC;
	r->creator = who;
	r->creator_len = (uint16_t)strlen(who);
	r->modifier = who;
	r->modifier_len = r->creator_len;
	r->attrs = attrs;
	r->attrs_len = (uint32_t)alen;
	r->payload = payload;
	r->payload_len = sizeof(payload);
}

/* Encodes r with its secdata into fresh memory and decodes the view a receiver would get. */
static void seal(struct rec *out, const struct pg_record *r)
{
	long n;
	int err;

	out->len = pg_record_encoded_size(r);
	out->bytes = malloc(out->len);
	PG_ASSERT(out->bytes);
	n = pg_record_encode(r, &b.lim, out->bytes, out->len);
	PG_ASSERT(n == (long)out->len);
	if ((err = pg_record_decode(out->bytes, out->len, &b.lim, &out->view)))
		die("decode", err);
}

static void records_sign(void)
{
	static uint8_t sds[PG_BUNDLE_MAX][PG_SECDATA_BUNDLE_MAX_LEN];
	static struct pg_record recs[PG_BUNDLE_MAX];
	static uint8_t attrs[PG_BUNDLE_MAX][64];
	uint8_t sd[PG_SECDATA_SINGLE_LEN];
	uint16_t lens[PG_BUNDLE_MAX];
	uint64_t n = 1;
	long len;
	int err;

	for (int i = 0; i < SINGLES; i++) {
		struct pg_record r;
		int m = i % MEMBERS;

		record_init(&r, attrs[0], sizeof(attrs[0]), pg_identity_peer_name(b.ids[m]), n++);
		len = pg_signer_sign_record(b.signers[m], &r, sd, sizeof(sd));
		if (len < 0)
			die("sign", (int)len);
		r.secdata = sd;
		r.secdata_len = (uint16_t)len;
		seal(&b.singles[i], &r);
	}
	for (size_t s = 0; s < PG_ARRAY_SIZE(bundle_sizes); s++) {
		unsigned size = bundle_sizes[s];

		b.bundles[s] = calloc(BUNDLE_RECORDS, sizeof(struct rec));
		PG_ASSERT(b.bundles[s]);
		for (unsigned k = 0; k < BUNDLE_RECORDS / size; k++) {
			int m = (int)(k % MEMBERS);

			for (unsigned i = 0; i < size; i++)
				record_init(&recs[i], attrs[i], sizeof(attrs[i]),
					    pg_identity_peer_name(b.ids[m]), n++);
			err = pg_signer_sign_bundle(b.signers[m], recs, size, sds, lens);
			if (err)
				die("sign bundle", err);
			for (unsigned i = 0; i < size; i++) {
				recs[i].secdata = sds[i];
				recs[i].secdata_len = lens[i];
				seal(&b.bundles[s][k * size + i], &recs[i]);
			}
		}
	}
}

static void body_free(void *ctx, const struct pg_record *body)
{
	(void)ctx;
	(void)body; /* bodies live in the arena */
}

/* 1 M held records in one arena (struct, then its encoding), and duplicate copies of some. */
static void version_table_fill(void)
{
	struct rvt_config rc = { .capacity = 1u << 20, .max_threads = 1, .body_free = body_free };
	const char *who = pg_identity_peer_name(b.ids[1]);
	uint8_t attrs[64], sd[PG_SECDATA_SINGLE_LEN];
	size_t stride, dup_stride;
	struct pg_record r;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int err;

	for (int i = 0; i < PG_SECDATA_SINGLE_LEN; i++)
		sd[i] = (uint8_t)(i * 37); /* never verified: held records skip verification */
	sd[PG_SECDATA_OFF_FMT] = PG_SECDATA_FMT;
	if ((err = rvt_create(&rc, &b.rvt)) || (err = rvt_thread_register(b.rvt, &b.th)))
		die("version table", err);
	record_init(&r, attrs, sizeof(attrs), who, 0);
	r.secdata = sd;
	r.secdata_len = sizeof(sd);
	stride = (sizeof(struct pg_record) + pg_record_encoded_size(&r) + 64 + 63) & ~(size_t)63;
	b.arena_len = ((stride * HELD) + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	b.arena = aligned_alloc(2u << 20, b.arena_len);
	PG_ASSERT(b.arena);
	madvise(b.arena, b.arena_len, MADV_HUGEPAGE); /* as the store's arena (arena.c) */
	for (uint64_t i = 0; i < HELD; i++) {
		struct pg_record *body = (struct pg_record *)(b.arena + i * stride);
		uint8_t *bytes = (uint8_t *)(body + 1);
		size_t len;

		record_init(&r, attrs, sizeof(attrs), who, (1ull << 40) + i);
		r.secdata = sd;
		r.secdata_len = sizeof(sd);
		len = pg_record_encoded_size(&r);
		PG_ASSERT(pg_record_encode(&r, &b.lim, bytes, len) == (long)len);
		PG_ASSERT(pg_record_decode(bytes, len, &b.lim, body) == 0);
		if ((err = rvt_insert(b.th, pg_record_key_of(b.graph_key, body), body)))
			die("rvt insert", err);
	}
	/* duplicates: exact copies of held records at random keys, in a receive buffer */
	dup_stride = (pg_record_encoded_size(&r) + 63) & ~(size_t)63;
	b.dup_bytes = malloc(dup_stride * DUPS);
	b.dups = calloc(DUPS, sizeof(*b.dups));
	PG_ASSERT(b.dup_bytes && b.dups);
	for (size_t i = 0; i < DUPS; i++) {
		const struct pg_record *held;
		uint8_t *bytes = b.dup_bytes + i * dup_stride;
		size_t len;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		held = (const struct pg_record *)(b.arena + (rng % HELD) * stride);
		len = pg_record_encoded_size(held);
		PG_ASSERT(pg_record_encode(held, &b.lim, bytes, len) == (long)len);
		PG_ASSERT(pg_record_decode(bytes, len, &b.lim, &b.dups[i]) == 0);
	}
}

static struct verify *verifier(enum verify_backend backend, uint32_t root_cache)
{
	struct verify_config c = {
		.graph_id = GRAPH,
		.graph_id_len = strlen(GRAPH),
		.keytab_fd = pg_keytab_fd(b.kt),
		.rvt = b.th,
		.backend = backend,
		.root_cache_size = root_cache,
	};
	struct verify *v;
	int err = verify_create(&c, &v);

	if (err)
		die("verify_create", err);
	return v;
}

/* ---- measurements ------------------------------------------------------------------------- */

/* Calls op(i) for i = 0, 1, ... until secs passed; returns the rate (per second). */
static double measure(void (*op)(uint64_t i, void *ctx), void *ctx, unsigned per_call)
{
	uint64_t start = pg_mono_ns(), end = start + (uint64_t)(b.secs * 1e9), now = start;
	uint64_t calls;

	for (calls = 0;; calls++) {
		op(calls, ctx);
		if ((calls & 15) == 15 && (now = pg_mono_ns()) >= end)
			break;
	}
	return (double)(calls + 1) * per_call / ((double)(now - start) / 1e9);
}

static void best(double *keep, double rate)
{
	if (rate > *keep)
		*keep = rate;
}

struct raw_ctx {
	uint8_t msgs[SINGLES][512];
	size_t lens[SINGLES];
	const uint8_t *sigs[SINGLES];
	const uint8_t *pks[SINGLES];
	EVP_PKEY *pkeys[MEMBERS];
	EVP_MD_CTX *ctx;
	uint64_t fails;
};

static void raw_prepare(struct raw_ctx *c)
{
	uint8_t tag[32];
	struct pg_secdata sd;

	memcpy(tag, pg_signer_graph_tag(b.signers[0]), sizeof(tag));
	for (int i = 0; i < SINGLES; i++) {
		long n;

		pg_secdata_record_prefix(tag, c->msgs[i]);
		n = pg_record_encode_canonical(&b.singles[i].view, &b.lim,
					       c->msgs[i] + PG_SECDATA_RECORD_PREFIX_LEN,
					       sizeof(c->msgs[i]) - PG_SECDATA_RECORD_PREFIX_LEN);
		PG_ASSERT(n > 0);
		c->lens[i] = PG_SECDATA_RECORD_PREFIX_LEN + (size_t)n;
		PG_ASSERT(pg_secdata_decode(b.singles[i].view.secdata,
					    b.singles[i].view.secdata_len, &sd) == 0);
		c->sigs[i] = sd.sig;
		c->pks[i] = pg_identity_public_key(b.ids[i % MEMBERS]);
	}
	for (int m = 0; m < MEMBERS; m++)
		c->pkeys[m] = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
							  pg_identity_public_key(b.ids[m]), 32);
	c->ctx = EVP_MD_CTX_new();
	PG_ASSERT(c->ctx && c->pkeys[MEMBERS - 1]);
}

static void op_openssl(uint64_t i, void *ctx)
{
	struct raw_ctx *c = ctx;
	unsigned k = (unsigned)(i % SINGLES);

	/* a used context is reset before the next init (as verify.c does) */
	if (EVP_MD_CTX_reset(c->ctx) != 1 ||
	    EVP_DigestVerifyInit(c->ctx, NULL, NULL, NULL, c->pkeys[k % MEMBERS]) != 1 ||
	    EVP_DigestVerify(c->ctx, c->sigs[k], 64, c->msgs[k], c->lens[k]) != 1)
		c->fails++;
}

static void op_sodium(uint64_t i, void *ctx)
{
	struct raw_ctx *c = ctx;
	unsigned k = (unsigned)(i % SINGLES);

	if (crypto_sign_verify_detached(c->sigs[k], c->msgs[k], c->lens[k], c->pks[k]) != 0)
		c->fails++;
}

struct path_ctx {
	struct verify *v;
	const struct rec *recs;
	unsigned n;
	uint64_t pos; /* carried across rounds: bundles keep arriving in order, never warm */
	uint64_t fails;
};

/* One receive burst of BURST records through verify_burst (n is a multiple of BURST); counts
 * in fails the records not answered `want` (0: verified). */
static void path_burst(struct path_ctx *c, int want)
{
	struct pg_record views[BURST];
	int res[BURST];

	for (int k = 0; k < BURST; k++)
		views[k] = c->recs[(c->pos + (uint64_t)k) % c->n].view;
	c->pos += BURST;
	verify_burst(c->v, views, BURST, 1, res);
	for (int k = 0; k < BURST; k++)
		c->fails += res[k] != want;
	rvt_quiescent(b.th);
}

static void op_path(uint64_t i, void *ctx)
{
	(void)i;
	path_burst(ctx, 0);
}

/* Late copies of records that expired: their keys remember the version, so each is a
 * duplicate (issue 12: they used to be verified again). */
static void op_late(uint64_t i, void *ctx)
{
	(void)i;
	path_burst(ctx, PG_E_STALE);
}

/* Holds the signed records in the table, then expires them all: their keys keep the version. */
static void singles_hold_and_expire(void)
{
	for (int i = 0; i < SINGLES; i++) {
		const struct pg_record *r = &b.singles[i].view;
		struct pg_key key = pg_record_key_of(b.graph_key, r);
		int err;

		if ((err = rvt_insert(b.th, key, r)) || (err = rvt_remove_expired(b.th, key, r)))
			die("expire a held record", err);
	}
	rvt_quiescent(b.th);
}

struct dup_ctx {
	struct verify *v;
	uint64_t fails;
};

static void dup_burst(struct dup_ctx *c, uint64_t i, unsigned n)
{
	size_t base = (size_t)(i * n) % DUPS;
	int res[RX_BURST];

	verify_burst(c->v, b.dups + base, n, 1, res);
	for (unsigned k = 0; k < n; k++)
		c->fails += res[k] != PG_E_STALE;
	rvt_quiescent(b.th);
}

static void op_dup_burst(uint64_t i, void *ctx)
{
	dup_burst(ctx, i, BURST);
}

static void op_dup_rx_burst(uint64_t i, void *ctx)
{
	dup_burst(ctx, i, RX_BURST);
}

static void op_dup_one(uint64_t i, void *ctx)
{
	struct dup_ctx *c = ctx;

	c->fails += verify_record(c->v, &b.dups[i % DUPS], 1) != PG_E_STALE;
	if ((i & 31) == 31)
		rvt_quiescent(b.th);
}

static void op_rvt_burst(uint64_t i, void *ctx)
{
	struct pg_key keys[BURST];
	struct rvt_view views[BURST];
	size_t base = (size_t)(i * BURST) % DUPS;

	for (int k = 0; k < BURST; k++)
		keys[k] = pg_record_key_of(b.graph_key, &b.dups[base + k]);
	*(uint64_t *)ctx += BURST - rvt_lookup_burst(b.th, keys, BURST, views);
	rvt_quiescent(b.th);
}

static void check_no_fails(const char *what, uint64_t fails)
{
	if (fails) {
		fprintf(stderr, "bench-verify: %s: %llu unexpected answers\n", what,
			(unsigned long long)fails);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static struct raw_ctx raw;
	double r_ossl, r_sod, ceiling, ours, ours_ossl, bund[3], dup32, dup256, dup_one, rvt_only;
	double late;
	struct verify_stats vs;
	uint64_t t_setup = pg_mono_ns(), rvt_fails = 0;
	struct path_ctx pc, po;
	struct dup_ctx dc;
	struct verify *v;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			b.quick = true;
		} else {
			fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
			return 2;
		}
	}
	b.secs = b.quick ? 0.5 : 2.0;
	b.rounds = b.quick ? 4 : 5;
	PG_ASSERT(sodium_init() >= 0);
	pin();
	pg_record_limits_default(&b.lim);
	b.graph_key = pg_graph_key(GRAPH, strlen(GRAPH));
	members_create();
	records_sign();
	version_table_fill();
	raw_prepare(&raw);
	printf("bench-verify: %s mode, pinned to cpu %d, best of %d x %.1f s per figure "
	       "(set-up %.1f s)\n",
	       b.quick ? "quick" : "full", b.cpu, b.rounds, b.secs,
	       (double)(pg_mono_ns() - t_setup) / 1e9);
	printf("  records: %zu bytes encoded, %zu canonical + 52-byte prefix signed; %d signers; "
	       "version table: %d records held\n",
	       b.singles[0].len, raw.lens[0] - PG_SECDATA_RECORD_PREFIX_LEN, MEMBERS, HELD);

	/* The four figures the ceiling ratio compares, their rounds interleaved so that a slow
	 * moment of this shared host does not land on one of them only. */
	r_ossl = r_sod = ours = ours_ossl = 0;
	pc = (struct path_ctx){ .v = verifier(VERIFY_BACKEND_SODIUM, 0),
				.recs = b.singles,
				.n = SINGLES };
	po = (struct path_ctx){ .v = verifier(VERIFY_BACKEND_OPENSSL, 0),
				.recs = b.singles,
				.n = SINGLES };
	for (int round = 0; round < b.rounds; round++) {
		best(&r_ossl, measure(op_openssl, &raw, 1));
		best(&r_sod, measure(op_sodium, &raw, 1));
		best(&ours, measure(op_path, &pc, BURST));
		best(&ours_ossl, measure(op_path, &po, BURST));
	}
	check_no_fails("raw verify", raw.fails);
	check_no_fails("verify_record", pc.fails + po.fails);
	verify_destroy(pc.v);
	verify_destroy(po.v);
	ceiling = r_ossl > r_sod ? r_ossl : r_sod;
	printf("\n  raw Ed25519 verify, same messages and keys:\n");
	printf("    %-52s %10.0f /s\n", "OpenSSL 3.0 EVP_DigestVerify", r_ossl);
	printf("    %-52s %10.0f /s  (%.2fx OpenSSL)\n", "libsodium crypto_sign_verify_detached",
	       r_sod, r_sod / r_ossl);
	printf("    ceiling = %s, %.0f /s\n", r_sod >= r_ossl ? "libsodium" : "OpenSSL", ceiling);

	printf("\n  our path, verify_burst() of 32 records (per record: key, version-table miss, "
	       "secdata,\n  key table, Ed25519, window, role):\n");
	printf("    %-52s %10.0f /s  = %.1f%% of the ceiling\n", "libsodium backend", ours,
	       100 * ours / ceiling);
	printf("    %-52s %10.0f /s  = %.1f%% of raw OpenSSL\n", "OpenSSL backend (reference)",
	       ours_ossl, 100 * ours_ossl / r_ossl);

	printf("\n  bundles, records arriving bundle by bundle, root cache cold for each bundle "
	       "(libsodium,\n  one signature check per bundle, then proofs; verify_burst() of "
	       "32):\n");
	for (size_t s = 0; s < PG_ARRAY_SIZE(bundle_sizes); s++) {
		pc = (struct path_ctx){ .v = verifier(VERIFY_BACKEND_SODIUM, ROOT_CACHE),
					.recs = b.bundles[s],
					.n = BUNDLE_RECORDS / bundle_sizes[s] * bundle_sizes[s] };
		bund[s] = 0;
		for (int round = 0; round < b.rounds; round++)
			best(&bund[s], measure(op_path, &pc, BURST));
		check_no_fails("bundle", pc.fails);
		verify_stats_read(pc.v, &vs);
		/* cold per bundle: one signature check per bundle started, no hit across bundles */
		PG_ASSERT(vs.root_misses == vs.sig_checks &&
			  vs.root_misses >= vs.accepted / bundle_sizes[s] &&
			  vs.root_misses <= vs.accepted / bundle_sizes[s] + 1);
		printf("    bundles of %-4u (%4.2f node hashes per record) %21.0f /s  = %5.1fx "
		       "per-record path\n",
		       bundle_sizes[s], (double)vs.node_hashes / (double)vs.accepted, bund[s],
		       bund[s] / ours);
		verify_destroy(pc.v);
	}

	v = verifier(VERIFY_BACKEND_SODIUM, 0);
	dc = (struct dup_ctx){ .v = v };
	dup32 = dup256 = dup_one = rvt_only = 0;
	for (int round = 0; round < b.rounds; round++) {
		best(&dup256, measure(op_dup_rx_burst, &dc, RX_BURST));
		best(&dup32, measure(op_dup_burst, &dc, BURST));
		best(&dup_one, measure(op_dup_one, &dc, 1));
		best(&rvt_only, measure(op_rvt_burst, &rvt_fails, BURST));
	}
	check_no_fails("duplicates", dc.fails);
	check_no_fails("rvt_lookup_burst", rvt_fails);
	verify_stats_read(v, &vs);
	PG_ASSERT(vs.sig_checks == 0 && vs.accepted == 0);
	verify_destroy(v);
	printf("\n  duplicates (exact copies of held records, random keys over %d held): no "
	       "verification\n",
	       HELD);
	printf("    %-52s %10.2f M/s\n", "verify_burst(), 256 per call (one receive burst)",
	       dup256 / 1e6);
	printf("    %-52s %10.2f M/s\n", "verify_burst(), 32 per call", dup32 / 1e6);
	printf("    %-52s %10.2f M/s\n", "verify_record(), one by one", dup_one / 1e6);
	printf("    %-52s %10.2f M/s  (the table alone, for scale)\n",
	       "rvt_lookup_burst() + record keys", rvt_only / 1e6);

	/* after the figures that need the singles unheld: they become expired records now */
	singles_hold_and_expire();
	pc = (struct path_ctx){ .v = verifier(VERIFY_BACKEND_SODIUM, 0),
				.recs = b.singles,
				.n = SINGLES };
	late = 0;
	for (int round = 0; round < b.rounds; round++)
		best(&late, measure(op_late, &pc, BURST));
	check_no_fails("late copies of expired records", pc.fails);
	verify_stats_read(pc.v, &vs);
	PG_ASSERT(vs.sig_checks == 0 && vs.accepted == 0);
	verify_destroy(pc.v);
	printf("\n  late copies of %d expired records (their keys remember the version): no "
	       "verification\n",
	       SINGLES);
	printf("    %-52s %10.2f M/s  = %.0fx the per-record path\n", "verify_burst(), 32 per call",
	       late / 1e6, late / ours);

	printf("\nsummary: openssl_verify_per_s=%.0f sodium_verify_per_s=%.0f ceiling_per_s=%.0f "
	       "path_per_s=%.0f path_vs_ceiling=%.3f path_openssl_per_s=%.0f "
	       "bundle16_per_s=%.0f bundle64_per_s=%.0f bundle256_per_s=%.0f bundle64_x=%.1f "
	       "dup_burst256_per_s=%.0f dup_burst32_per_s=%.0f dup_one_per_s=%.0f "
	       "late_expired_per_s=%.0f late_expired_x_path=%.0f\n",
	       r_ossl, r_sod, ceiling, ours, ours / ceiling, ours_ossl, bund[0], bund[1], bund[2],
	       bund[1] / ours, dup256, dup32, dup_one, late, late / ours);

	rvt_thread_unregister(b.th);
	rvt_destroy(b.rvt);
	free(b.arena);
	free(b.dups);
	free(b.dup_bytes);
	for (int i = 0; i < SINGLES; i++)
		free(b.singles[i].bytes);
	for (size_t s = 0; s < PG_ARRAY_SIZE(bundle_sizes); s++) {
		for (unsigned i = 0; i < BUNDLE_RECORDS; i++)
			free(b.bundles[s][i].bytes);
		free(b.bundles[s]);
	}
	for (int m = 0; m < MEMBERS; m++) {
		EVP_PKEY_free(raw.pkeys[m]);
		pg_signer_destroy(b.signers[m]);
		pg_identity_close(b.ids[m]);
	}
	EVP_MD_CTX_free(raw.ctx);
	pg_keytab_destroy(b.kt);
	pg_identity_store_close(b.st);
	nftw(b.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
