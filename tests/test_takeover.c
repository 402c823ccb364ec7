/*
 * test_takeover.c - nobody but a record's creator (or an administrator) makes a new version
 * of it, on every node and in every arrival order (issue 12 item 1; record.h, "WHO OWNS A
 * RECORD ID").
 *
 * The attack: bob, a plain member, publishes alice's record id at a higher version naming
 * himself as creator, signed with his own key, then a tombstone of it; or an equal-version
 * copy of alice's record with himself as modifier. Each "node" here is what the dataplane
 * runs for a received record: the verifier (either Ed25519 backend), then the version table
 * (rvt_raise applies pg_record_check_update), then the durable store. Every permutation of the
 * deliveries must leave every node with the same database, in which alice's record is
 * alice's; the store keeps that through replay (close, reopen) and through export / import.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "verify_fixture.h"

TestSuite(takeover, .init = vf_setup, .fini = vf_teardown);

enum { ID_N = 7 }; /* every record below has the record id of fx_rec_init(.., 7) */

/* What each record is, and what a verifying node answers for it. */
enum rec_no { A1, B2, B3, BM, BA, C2, NRECS };

static struct fx_rec recs[NRECS];
static const int verdict[NRECS] = {
	[A1] = 0,		      /* alice's record, version 1 */
	[B2] = 0,		      /* bob's OWN record (bob, id): valid, but not alice's */
	[B3] = 0,		      /* bob's tombstone of (bob, id): deletes only his own */
	[BM] = PG_E_SIG_NOT_ADMIN,    /* alice's record, equal version, bob as modifier */
	[BA] = PG_E_SIG_WRONG_SIGNER, /* alice's record at version 2, signed by bob */
	[C2] = 0,		      /* carol (administrator) updates alice's record */
};

static void tombstone(struct fx_rec *t)
{
	t->r.flags |= PG_RECORD_DELETED;
	t->r.payload_len = 0;
	t->r.attrs_len = 0;
	t->r.nattrs = 0;
}

static void make(struct fx_rec *t, struct fx_member *creator, struct fx_member *modifier,
		 uint32_t version, bool deleted, struct fx_member *signer)
{
	fx_rec_init(t, creator->name, modifier ? modifier->name : NULL, version, ID_N);
	if (deleted)
		tombstone(t);
	/* raw: the control plane's signer refuses to sign in another's name, a forger does not */
	fx_sign_raw(t, signer, pg_identity_key_id(signer->id));
	fx_seal(t);
}

static void make_all(void)
{
	make(&recs[A1], &alice, NULL, 1, false, &alice);
	make(&recs[B2], &bob, NULL, 2, false, &bob);
	make(&recs[B3], &bob, &bob, 3, true, &bob);
	make(&recs[BM], &alice, &bob, 1, false, &bob);
	make(&recs[BA], &alice, NULL, 2, false, &bob);
	make(&recs[C2], &alice, &carol, 2, false, &carol);
	cr_assert_eq(memcmp(&recs[A1].view.id, &recs[B2].view.id, 16), 0, "one record id");
}

/* ---- a node: verifier -> version table -> store ----------------------------------------- */

struct node {
	char dir[96];
	struct rvt *rvt;
	struct rvt_thread *th;
	struct verify *v;
	struct pg_store *s;
};

static void node_store_open(struct node *n)
{
	struct pg_store_config c;
	int err;

	pg_store_config_default(&c);
	c.dir = n->dir;
	c.graph_id = FX_GRAPH;
	c.graph_id_len = (uint16_t)strlen(FX_GRAPH);
	c.max_records = 1024;
	c.max_bytes = 8 << 20;
	c.segment_size = 64 << 10;
	c.commit_interval_us = 200;
	c.now_us = FX_T0;
	err = pg_store_open(&c, &n->s);
	cr_assert_eq(err, 0, "store open: %s", pg_strerror(err));
}

static void node_open(struct node *n, enum verify_backend b)
{
	struct rvt_config rc = { .capacity = 64, .max_threads = 1, .body_free = body_free };
	struct verify_config vc = config(b);

	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s/node-XXXXXX", fx_tmp);
	cr_assert_not_null(mkdtemp(n->dir));
	cr_assert_eq(rvt_create(&rc, &n->rvt), 0);
	cr_assert_eq(rvt_thread_register(n->rvt, &n->th), 0);
	vc.rvt = n->th;
	n->v = verifier_with(&vc);
	node_store_open(n);
}

static void node_close(struct node *n)
{
	pg_store_close(n->s);
	verify_destroy(n->v);
	rvt_thread_unregister(n->th);
	rvt_destroy(n->rvt);
	memset(n, 0, sizeof(*n));
}

/* An owned copy of a view, as the table keeps bodies. */
static struct pg_record *body_copy(const struct pg_record *view)
{
	struct pg_record_limits lim;
	size_t len = pg_record_encoded_size(view);
	struct pg_record *body = malloc(sizeof(*body) + len);
	uint8_t *bytes = (uint8_t *)(body + 1);

	cr_assert_not_null(body);
	pg_record_limits_default(&lim);
	cr_assert_eq(pg_record_encode(view, &lim, bytes, len), (long)len);
	cr_assert_eq(pg_record_decode(bytes, len, &lim, body), 0);
	return body;
}

/* The dataplane's path for one received record: verify, raise in the table, store. */
static int node_receive(struct node *n, const struct pg_record *view)
{
	struct pg_record *body;
	int err = verify_record(n->v, view, NOW);

	if (err)
		return err;
	body = body_copy(view);
	err = rvt_raise(n->th, key_of(body), body);
	if (err) {
		free(body);
		return err;
	}
	err = pg_store_put_record(n->s, view, NULL);
	cr_assert_eq(err, 0, "store put after the table took it: %s", pg_strerror(err));
	return 0;
}

/* ---- what every node must end with ------------------------------------------------------- */

/* The store holds exactly `want` under (id, creator of want); NULL: nothing of that creator. */
static void expect_stored(struct pg_store *s, const struct fx_member *creator,
			  const struct fx_rec *want, const char *when)
{
	uint8_t got[8192];
	size_t len = 0;
	int err = pg_store_get(s, &recs[A1].view.id, creator->name, (uint16_t)strlen(creator->name),
			       PG_STORE_WITH_DELETED, got, sizeof(got), &len);

	if (!want) {
		cr_assert_eq(err, PG_E_NOT_FOUND, "%s: nothing of %s's", when, creator->name);
		return;
	}
	cr_assert_eq(err, 0, "%s: %s's record present: %s", when, creator->name, pg_strerror(err));
	cr_assert_eq(len, want->enc_len, "%s: %s's record is the expected copy", when,
		     creator->name);
	cr_assert(memcmp(got, want->enc, len) == 0, "%s: %s's record byte-identical", when,
		  creator->name);
}

/* The table holds `want` (by its bytes' version and security data) under want's key. */
static void expect_held(struct node *n, const struct fx_rec *want)
{
	struct rvt_view w;

	cr_assert_eq(rvt_lookup(n->th, key_of(&want->view), &w), 0);
	cr_assert_eq(w.version, want->view.version);
	cr_assert_eq(w.body->secdata_len, want->view.secdata_len);
	cr_assert(memcmp(w.body->secdata, want->view.secdata, w.body->secdata_len) == 0);
	cr_assert_eq(w.body->creator_len, want->view.creator_len);
	cr_assert(memcmp(w.body->creator, want->view.creator, w.body->creator_len) == 0);
}

/* ---- the tests --------------------------------------------------------------------------- */

/* Heap's algorithm: the next permutation of p[0..k). */
static void permute(int *p, int k, void (*fn)(const int *p, int k, void *ctx), void *ctx)
{
	int c[NRECS] = { 0 }, i = 1;

	fn(p, k, ctx);
	while (i < k) {
		if (c[i] < i) {
			int j = i % 2 ? c[i] : 0, t = p[j];

			p[j] = p[i];
			p[i] = t;
			fn(p, k, ctx);
			c[i]++;
			i = 1;
		} else {
			c[i++] = 0;
		}
	}
}

struct run {
	enum verify_backend b;
	const struct fx_rec *alice_final; /* A1, or C2 when carol's update is delivered */
	unsigned runs;
};

static void one_order(const int *order, int k, void *ctx)
{
	struct run *r = ctx;
	struct node n;
	char when[64];

	snprintf(when, sizeof(when), "backend %d, order %u", (int)r->b, r->runs);
	node_open(&n, r->b);
	for (int i = 0; i < k; i++) {
		int err = node_receive(&n, &recs[order[i]].view);

		/* a copy that lost the conflict order may answer STALE instead of its verdict */
		if (err != PG_E_STALE)
			cr_assert_eq(err, verdict[order[i]], "%s: record %d answered %s", when,
				     order[i], pg_strerror_name(err));
		cr_assert(err != PG_E_CREATOR_CHANGED && err != PG_E_KEY_COLLISION,
			  "%s: no copy reaches the creator rule through the key", when);
	}
	expect_held(&n, r->alice_final);
	expect_held(&n, &recs[B3]);
	expect_stored(n.s, &alice, r->alice_final, when);
	expect_stored(n.s, &bob, &recs[B3], when);
	expect_stored(n.s, &carol, NULL, when);
	/* replay: the store reopened from its log holds the same */
	pg_store_close(n.s);
	node_store_open(&n);
	expect_stored(n.s, &alice, r->alice_final, "after replay");
	expect_stored(n.s, &bob, &recs[B3], "after replay");
	node_close(&n);
	r->runs++;
}

/* Delivers every order of the five records to fresh nodes with either backend. */
static void every_order(int order[5], const struct fx_rec *alice_final)
{
	make_all();
	for (size_t b = 0; b < PG_ARRAY_SIZE(backends); b++) {
		struct run r = { .b = backends[b], .alice_final = alice_final };

		permute(order, 5, one_order, &r);
		cr_assert_eq(r.runs, 120);
	}
}

/* Every order of alice's record and bob's four attempts, on nodes with either backend: alice's
 * record stays alice's version 1 everywhere; bob's copy is his own record, which his tombstone
 * deletes. */
Test(takeover, forged_updates_never_take_a_record_in_any_order)
{
	int order[] = { A1, B2, B3, BM, BA };

	every_order(order, &recs[A1]);
}

/* The same with carol's legitimate update of alice's record among them: every node ends with
 * carol's version 2 of alice's record. */
Test(takeover, administrators_update_others_records_in_any_order)
{
	int order[] = { A1, B2, B3, BM, C2 };

	every_order(order, &recs[C2]);
}

/* A store fed without a verifier (import, or an open graph) still never lets bob's copy replace
 * alice's: they are two records. Export from a node that took bob's copies first, import into
 * one that holds alice's record, and the reverse. */
Test(takeover, import_keeps_records_apart)
{
	struct node x, y;
	char path[96];
	int err;

	make_all();
	node_open(&x, VERIFY_BACKEND_SODIUM);
	node_open(&y, VERIFY_BACKEND_OPENSSL);
	cr_assert_eq(pg_store_put(x.s, recs[B2].enc, recs[B2].enc_len, NULL), 0);
	cr_assert_eq(pg_store_put(x.s, recs[B3].enc, recs[B3].enc_len, NULL), 0);
	cr_assert_eq(pg_store_put(y.s, recs[A1].enc, recs[A1].enc_len, NULL), 0);
	snprintf(path, sizeof(path), "%s/x.snap", fx_tmp);
	cr_assert_eq(pg_store_export(x.s, path), 0);
	err = pg_store_import(y.s, path, NULL);
	cr_assert_eq(err, 0, "import: %s", pg_strerror(err));
	expect_stored(y.s, &alice, &recs[A1], "import into alice's holder");
	expect_stored(y.s, &bob, &recs[B3], "import into alice's holder");
	snprintf(path, sizeof(path), "%s/y.snap", fx_tmp);
	cr_assert_eq(pg_store_export(y.s, path), 0);
	cr_assert_eq(pg_store_import(x.s, path, NULL), 0);
	expect_stored(x.s, &alice, &recs[A1], "import into bob's holder");
	expect_stored(x.s, &bob, &recs[B3], "import into bob's holder");
	pg_store_close(x.s);
	node_store_open(&x);
	expect_stored(x.s, &alice, &recs[A1], "import, then replay");
	node_close(&x);
	node_close(&y);
}

/* The one rule behind it all, where only a crafted key collision could reach it: a copy under
 * a held key that names another creator or another id is refused by the version table. */
Test(takeover, the_table_refuses_another_creator_under_a_held_key)
{
	struct pg_record *a, *b, *c;
	struct pg_key k;
	struct fx_rec other;

	make_all();
	a = body_copy(&recs[A1].view);
	b = body_copy(&recs[B2].view);
	k = key_of(a);
	cr_assert_eq(rvt_raise(th, k, a), 0);
	cr_assert_eq(rvt_raise(th, k, b), PG_E_CREATOR_CHANGED, "bob's copy forced on alice's key");
	make(&other, &alice, &alice, 2, false, &alice);
	other.view.id.b[0] ^= 1; /* another id, as a collision would bring */
	c = body_copy(&other.view);
	cr_assert_eq(rvt_raise(th, k, c), PG_E_KEY_COLLISION);
	free(b);
	free(c);
}
