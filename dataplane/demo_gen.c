/*
 * demo_gen.c - the deterministic workload of peergraph-demo (see demo_gen.h).
 *
 * Which records are updated, deleted or short-lived is a pure function of the record index
 * and the seed (a hash, not a random stream), so the sender and the final check agree without
 * sharing state. A short-lived record is never updated or deleted, so its fate is simple: it
 * is created and then expires.
 */
#include <string.h>

#include <xxhash.h>

#include "demo_gen.h"
#include "pg_assert.h"

static uint32_t pick(const struct demo_gen_config *c, uint32_t index, uint32_t salt)
{
	uint64_t v[2] = { index, salt };

	return (uint32_t)(XXH3_64bits_withSeed(v, sizeof(v), c->seed) % 100);
}

bool demo_gen_shortlived(const struct demo_gen_config *c, uint32_t index)
{
	return pick(c, index, 1) < c->shortlived_pct;
}

bool demo_gen_updated(const struct demo_gen_config *c, uint32_t index)
{
	return !demo_gen_shortlived(c, index) && pick(c, index, 2) < c->update_pct;
}

bool demo_gen_deleted(const struct demo_gen_config *c, uint32_t index)
{
	return demo_gen_updated(c, index) && pick(c, index, 3) < c->delete_pct;
}

void demo_gen_make(const struct demo_gen_config *c, const struct demo_op *op, uint64_t now_us,
		   struct pg_record *rec, uint8_t *buf)
{
	static const char creator[] = "0.demo-publisher";
	static const char modifier[] = "0.demo-editor";
	uint32_t version = op->kind == DEMO_CREATE ? 1 : op->kind == DEMO_UPDATE ? 2 : 3;
	bool shortlived = demo_gen_shortlived(c, op->index);
	struct pg_attr attrs[2] = {
		{ .name = "index", .name_len = 5, .type = PG_ATTR_INT, .v.i = op->index },
		{ .name = "stage", .name_len = 5, .type = PG_ATTR_INT, .v.i = version },
	};
	long alen;

	memset(rec, 0, sizeof(*rec));
	memcpy(rec->type.b, "peergraph-demo-t", 16);
	memcpy(rec->id.b, &op->index, sizeof(op->index));
	memcpy(rec->id.b + 4, &c->seed, sizeof(c->seed));
	rec->version = version;
	rec->created_us = now_us;
	rec->modified_us = now_us + version - 1;
	rec->expires_us = now_us + (shortlived ? c->shortlived_us : c->lifetime_us);
	rec->creator = creator;
	rec->creator_len = sizeof(creator) - 1;
	if (op->kind != DEMO_CREATE) {
		rec->modifier = modifier;
		rec->modifier_len = sizeof(modifier) - 1;
	}
	if (op->kind == DEMO_DELETE) {
		rec->flags = PG_RECORD_DELETED;
		return;
	}
	alen = pg_attrs_encode(attrs, 2, buf, 256);
	PG_ASSERT(alen > 0);
	rec->nattrs = 2;
	rec->attrs = buf;
	rec->attrs_len = (uint32_t)alen;
	for (uint32_t i = 0; i < c->payload; i++)
		buf[256 + i] = (uint8_t)(op->index * 31 + i + version);
	rec->payload = buf + 256;
	rec->payload_len = c->payload;
}

void demo_gen_model(const struct demo_gen_config *c, struct demo_model *m)
{
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < c->records; i++) {
		if (demo_gen_shortlived(c, i))
			m->expired++;
		else if (demo_gen_deleted(c, i))
			m->tombstones++;
		else
			m->live++;
	}
}
