/*
 * verify_bundle.c - step 4 of verification for bundle records (verify.h, shared/bundle.h): the
 * proof walk from the record's leaf to the root it carries, the root cache, and the memory of
 * the current bundle's tree that lets its later records skip most of their walk.
 *
 * HOW IT WORKS
 *
 * A bundle record carries (index, size, key id, signature, root, proof). The verifier hashes
 * the record's canonical bytes into its leaf, walks the proof (RFC 9162 §2.1.3.2) and requires
 * the root it reaches to be the root carried. The signature over (graph, size, root) is then
 * checked, unless the root cache holds an entry with the same root, size, key id and signature
 * bytes: entries are made only after such a check succeeded, so a hit stands for it. The
 * signature bytes belong to the entry because the conflict order compares security data: a
 * hit must not let other bytes pass as that signature (bundle.h).
 *
 * The walk memory. Records of one bundle usually arrive together, and their proofs overlap:
 * leaf i's walk passes through nodes that leaf i - 1's walk computed or was given as siblings.
 * Once a walk has reached a root whose signature is verified, every value it met -- the nodes
 * it computed and the siblings from the proof -- is the value of the signed tree at that
 * position (any other value there would be a SHA-256 collision). The verifier keeps them, for
 * the bundle it saw last, in an array indexed by position (level, index at that level; the
 * levels of a tree of n leaves hold n, n/2 rounded up, ..., 1 nodes, so at most 2n values).
 *
 * A later record of the same bundle (same root, size, key id and signature bytes) walks as
 * before, but at each level where its current node is a remembered one and its proof's
 * sibling equals the remembered sibling, the parent is taken from memory instead of hashed;
 * and wherever a value it computes or carries sits at a remembered position, it must equal the
 * remembered value, or the proof is rejected (one signed tree has one value per position).
 * Every proof hash is thus either hashed into a value that is checked, or compared with a
 * verified one: accepting through the memory gives exactly the answer of the full walk, with
 * the same security data bytes, so the memory changes the cost and nothing else. Records that
 * arrive in order then cost about one node hash each instead of log2(size).
 *
 * Only walks that ended at a verified root add to the memory; a walk rejected for its proof or
 * its signature adds nothing. A record of another bundle replaces the memory (after its own
 * root verified). Policy rejections (revoked, window, role) come after this step and do not
 * concern the tree's values.
 */
#include <string.h>

#include <xxhash.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "verify_impl.h"

/* ---- the root cache -------------------------------------------------------------------------- */

static struct root_entry *root_set(struct verify *v, const uint8_t *root)
{
	uint64_t h = XXH3_64bits_withSeed(root, PG_SECDATA_HASH_LEN, v->root_seed);

	return &v->roots[(size_t)(h & v->root_set_mask) * ROOT_WAYS];
}

static bool root_known(struct verify *v, const struct pg_secdata *sd)
{
	const struct root_entry *set = root_set(v, sd->root);

	for (int w = 0; w < ROOT_WAYS; w++)
		if (set[w].size == sd->bundle_size &&
		    memcmp(set[w].root, sd->root, PG_SECDATA_HASH_LEN) == 0 &&
		    memcmp(set[w].key_id, sd->key_id, PG_SECDATA_KEY_ID_LEN) == 0 &&
		    memcmp(set[w].sig, sd->sig, PG_SECDATA_SIG_LEN) == 0)
			return true;
	return false;
}

/* Only after sig, over (graph, size, root), verified with key_id's key. */
static void root_remember(struct verify *v, const struct pg_secdata *sd)
{
	struct root_entry *set = root_set(v, sd->root);
	size_t si = (size_t)(set - v->roots) / ROOT_WAYS;
	int w;

	for (w = 0; w < ROOT_WAYS && set[w].size; w++)
		;
	if (w == ROOT_WAYS)
		w = v->root_victim[si]++ % ROOT_WAYS; /* round robin among the full ways */
	memcpy(set[w].root, sd->root, PG_SECDATA_HASH_LEN);
	memcpy(set[w].key_id, sd->key_id, PG_SECDATA_KEY_ID_LEN);
	memcpy(set[w].sig, sd->sig, PG_SECDATA_SIG_LEN);
	set[w].size = sd->bundle_size;
}

/* ---- the walk memory ------------------------------------------------------------------------- */

static bool memo_matches(const struct bundle_memo *m, const struct pg_secdata *sd)
{
	return m->valid && m->size == sd->bundle_size &&
	       memcmp(m->root, sd->root, PG_SECDATA_HASH_LEN) == 0 &&
	       memcmp(m->key_id, sd->key_id, PG_SECDATA_KEY_ID_LEN) == 0 &&
	       memcmp(m->sig, sd->sig, PG_SECDATA_SIG_LEN) == 0;
}

/* Where each level of a tree of `size` leaves starts in the position space; returns the
 * number of positions (< 2 * size). */
static unsigned layout(uint16_t level_off[PG_BUNDLE_DEPTH_MAX + 2], uint32_t size)
{
	uint32_t n = size, off = 0;

	for (int l = 0;; l++) {
		PG_ASSERT(l < PG_BUNDLE_DEPTH_MAX + 2);
		level_off[l] = (uint16_t)off;
		off += n;
		if (n == 1)
			break;
		n = (n + 1) / 2;
	}
	PG_ASSERT(off <= 2 * PG_BUNDLE_MAX);
	return off;
}

/* Forgets the memory and makes it the (verified) bundle of sd. */
static void memo_reset(struct bundle_memo *m, const struct pg_secdata *sd)
{
	unsigned npos = layout(m->level_off, sd->bundle_size);

	memset(m->known, 0, ((npos + 63) / 64) * sizeof(m->known[0]));
	memcpy(m->root, sd->root, PG_SECDATA_HASH_LEN);
	memcpy(m->key_id, sd->key_id, PG_SECDATA_KEY_ID_LEN);
	memcpy(m->sig, sd->sig, PG_SECDATA_SIG_LEN);
	m->size = sd->bundle_size;
	m->valid = true;
}

static bool memo_known(const struct bundle_memo *m, unsigned pos)
{
	return m->known[pos / 64] >> (pos % 64) & 1;
}

/* 0: position unknown; 1: known and equal to val; -1: known and different. */
static int memo_cmp(const struct bundle_memo *m, unsigned pos, const uint8_t *val)
{
	if (!memo_known(m, pos))
		return 0;
	return memcmp(m->node[pos], val, PG_SECDATA_HASH_LEN) == 0 ? 1 : -1;
}

/* The values one walk met, by position: the leaf, then a sibling and a parent per level. */
struct trace {
	unsigned n;
	uint16_t pos[1 + 2 * PG_BUNDLE_DEPTH_MAX];
	const uint8_t *val[1 + 2 * PG_BUNDLE_DEPTH_MAX];
	uint8_t computed[1 + PG_BUNDLE_DEPTH_MAX][PG_SECDATA_HASH_LEN];
};

static void trace_add(struct trace *t, unsigned pos, const uint8_t *val)
{
	PG_ASSERT(t->n < PG_ARRAY_SIZE(t->pos));
	t->pos[t->n] = (uint16_t)pos;
	t->val[t->n++] = val;
}

/* Adds a verified walk's values to the memory. */
static void memo_store(struct bundle_memo *m, const struct trace *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		unsigned pos = t->pos[i];

		if (memo_known(m, pos))
			continue; /* equal: the walk compared it */
		memcpy(m->node[pos], t->val[i], PG_SECDATA_HASH_LEN);
		m->known[pos / 64] |= 1ull << (pos % 64);
	}
}

/*
 * The RFC 9162 walk from leaf to root, noting every value met in t; with use_memo, values at
 * remembered positions are compared and parents are taken from memory where the node and its
 * sibling are both remembered (see HOW IT WORKS). 0 with root filled, PG_E_SIG_PROOF, or
 * PG_E_CRYPTO. The shape (nproof for index, size) was checked by the decoder.
 */
static int walk(struct verify *v, const struct pg_secdata *sd, const uint8_t *leaf,
		const uint16_t *level_off, bool use_memo, struct trace *t,
		uint8_t root[PG_SECDATA_HASH_LEN])
{
	const struct bundle_memo *m = &v->memo;
	uint32_t fn = sd->leaf_index, sn = sd->bundle_size - 1, level = 0;
	const uint8_t *r = t->computed[0];
	bool anchored = false; /* r is a remembered (verified) value */
	int c = 0;

	PG_ASSERT(pg_bundle_path_len(sd->leaf_index, sd->bundle_size) == sd->nproof);
	memcpy(t->computed[0], leaf, PG_SECDATA_HASH_LEN);
	trace_add(t, fn, r);
	if (use_memo && (c = memo_cmp(m, fn, r)) < 0)
		return PG_E_SIG_PROOF;
	anchored = c > 0;
	for (unsigned i = 0; i < sd->nproof; i++) {
		const uint8_t *p = sd->proof + (size_t)i * PG_SECDATA_HASH_LEN;
		bool p_left = (fn & 1) || fn == sn;
		unsigned sib, par;
		int err;

		if (p_left) /* a rightmost node without a sibling moves up unchanged first */
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
				level++;
			}
		sib = level_off[level] + (p_left ? fn - 1 : fn + 1);
		par = level_off[level + 1] + (fn >> 1);
		trace_add(t, sib, p);
		if (use_memo && (c = memo_cmp(m, sib, p)) < 0)
			return PG_E_SIG_PROOF;
		if (use_memo && anchored && c > 0 && memo_known(m, par)) {
			r = m->node[par]; /* both children verified: so is their parent */
		} else {
			uint8_t *out = t->computed[i + 1];

			err = p_left ? pg_bundle_node_hash(v->sha, p, r, out)
				     : pg_bundle_node_hash(v->sha, r, p, out);
			if (err)
				return err;
			verify_count(v, C_NODE_HASH);
			r = out;
			if (use_memo && (c = memo_cmp(m, par, r)) < 0)
				return PG_E_SIG_PROOF;
			anchored = use_memo && c > 0;
		}
		trace_add(t, par, r);
		fn >>= 1;
		sn >>= 1;
		level++;
	}
	PG_ASSERT(sn == 0);
	memcpy(root, r, PG_SECDATA_HASH_LEN);
	return 0;
}

int verify_check_bundle(struct verify *v, struct keycache_entry *k, const struct pg_secdata *sd,
			size_t canonical_len)
{
	uint8_t leaf[PG_SECDATA_HASH_LEN], root[PG_SECDATA_HASH_LEN];
	uint8_t msg[PG_SECDATA_BUNDLE_MSG_LEN];
	bool memo = memo_matches(&v->memo, sd);
	uint16_t level_off[PG_BUNDLE_DEPTH_MAX + 2];
	struct trace t;
	int err;

	t.n = 0;
	err =
	    pg_bundle_leaf_hash(v->sha, v->msg + PG_SECDATA_RECORD_PREFIX_LEN, canonical_len, leaf);
	if (err)
		return err;
	if (!memo) /* the memory stays the last bundle's until this one verifies */
		layout(level_off, sd->bundle_size);
	err = walk(v, sd, leaf, memo ? v->memo.level_off : level_off, memo, &t, root);
	if (err)
		return err;
	if (memcmp(root, sd->root, PG_SECDATA_HASH_LEN) != 0)
		return PG_E_SIG_PROOF;
	if (memo || root_known(v, sd)) {
		verify_count(v, C_ROOT_HIT);
	} else {
		verify_count(v, C_ROOT_MISS);
		pg_secdata_bundle_msg(v->graph_tag, sd->bundle_size, sd->root, msg);
		err = verify_ed25519(v, k, sd->sig, msg, sizeof(msg));
		if (err)
			return err;
		root_remember(v, sd);
	}
	if (!memo)
		memo_reset(&v->memo, sd);
	memo_store(&v->memo, &t);
	return 0;
}
