/*
 * ring.c - flood rings (ring.h).
 *
 * An entry never straddles the end of the buffer: when the next one does not fit before the
 * end, a wrap marker (length DP_RING_WRAP) takes the rest and the entry starts at offset 0.
 * Entries and markers are 8-byte aligned, so a marker always has room for its header.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pg_assert.h"
#include "pg_atomic.h"
#include "pg_bytes.h"
#include "ring.h"

#define DP_RING_WRAP UINT32_MAX

int dp_ring_set_init(struct dp_ring_set *s, unsigned nrings, uint64_t ring_bytes)
{
	uint64_t size = DP_RING_MIN;

	if (!nrings || nrings > DP_RING_PRODUCERS)
		return -EINVAL;
	while (size < ring_bytes)
		size <<= 1;
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->nrings = nrings;
	for (unsigned i = 0; i < nrings; i++) {
		struct dp_ring *r = calloc(1, sizeof(*r));

		if (!r || !(r->buf = malloc(size))) {
			free(r);
			dp_ring_set_fini(s);
			return -ENOMEM;
		}
		r->size = size;
		r->mask = size - 1;
		r->set = s;
		r->index = i;
		s->rings[i] = r;
	}
	return 0;
}

void dp_ring_set_fini(struct dp_ring_set *s)
{
	for (unsigned i = 0; i < DP_RING_PRODUCERS; i++) {
		if (s->rings[i])
			free(s->rings[i]->buf);
		free(s->rings[i]);
		s->rings[i] = NULL;
	}
	pthread_mutex_destroy(&s->lock);
}

struct dp_ring_cursor *dp_ring_cursor_add(struct dp_ring_set *s, uint32_t src)
{
	struct dp_ring_cursor *c = NULL;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < DP_RING_CURSORS && !c; i++)
		if (!s->cur[i].used)
			c = &s->cur[i];
	if (c) {
		/* under the lock: a producer computing its bound sees this cursor, or computed
		 * it from heads no later than the ones read here */
		for (unsigned i = 0; i < s->nrings; i++)
			pg_store_relaxed(&c->pos[i], pg_load_acquire(&s->rings[i]->head));
		c->src = src;
		c->used = true;
		if ((uint32_t)(c - s->cur) + 1 > s->ncur)
			s->ncur = (uint32_t)(c - s->cur) + 1;
	}
	pthread_mutex_unlock(&s->lock);
	return c;
}

void dp_ring_cursor_remove(struct dp_ring_set *s, struct dp_ring_cursor *c)
{
	pthread_mutex_lock(&s->lock);
	c->used = false;
	while (s->ncur && !s->cur[s->ncur - 1].used)
		s->ncur--;
	pthread_mutex_unlock(&s->lock);
}

uint64_t dp_ring_free(const struct dp_ring *r)
{
	return r->size - (pg_load_relaxed(&r->head) - r->low);
}

/* Raises the cached bound to the slowest registered cursor (or the head: no cursor). */
static void low_refresh(struct dp_ring *r)
{
	struct dp_ring_set *s = r->set;
	uint64_t low = pg_load_relaxed(&r->head);

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < s->ncur; i++) {
		uint64_t p;

		if (!s->cur[i].used)
			continue;
		/* acquire: the reader's loads of the entries below p came before it moved */
		p = pg_load_acquire(&s->cur[i].pos[r->index]);
		if (p < low)
			low = p;
	}
	pthread_mutex_unlock(&s->lock);
	PG_ASSERT(low >= r->low);
	r->low = low;
}

/* Bytes an append of `bytes` needs at the current head, wrap marker included. */
static uint64_t need_at_head(const struct dp_ring *r, uint64_t bytes)
{
	uint64_t head = pg_load_relaxed(&r->head), to_end = r->size - (head & r->mask);

	return bytes <= to_end ? bytes : to_end + bytes;
}

bool dp_ring_room(struct dp_ring *r, uint64_t bytes)
{
	return dp_ring_room_reserve(r, bytes, 0);
}

bool dp_ring_room_reserve(struct dp_ring *r, uint64_t bytes, uint64_t reserve)
{
	uint64_t need = need_at_head(r, bytes) + reserve;

	if (need <= dp_ring_free(r))
		return true;
	low_refresh(r);
	return need <= dp_ring_free(r);
}

void dp_ring_append(struct dp_ring *r, const uint8_t *rec, uint32_t len, uint32_t src)
{
	uint64_t bytes = dp_ring_entry_bytes(len), head = pg_load_relaxed(&r->head);
	uint64_t to_end = r->size - (head & r->mask);

	PG_ASSERT(need_at_head(r, bytes) <= dp_ring_free(r));
	if (bytes > to_end) {
		store_le32(r->buf + (head & r->mask), DP_RING_WRAP);
		head += to_end;
	}
	store_le32(r->buf + (head & r->mask), len);
	store_le32(r->buf + (head & r->mask) + 4, src);
	memcpy(r->buf + (head & r->mask) + DP_RING_HDR, rec, len);
	/* release: the entry's bytes before the head that shows them */
	pg_store_release(&r->head, head + bytes);
}

int dp_ring_peek(struct dp_ring_set *s, struct dp_ring_cursor *c, unsigned i, const uint8_t **rec,
		 uint32_t *len)
{
	struct dp_ring *r = s->rings[i];
	/* acquire: pairs with the append's release, the entries below head are whole */
	uint64_t head = pg_load_acquire(&r->head), pos = pg_load_relaxed(&c->pos[i]);

	while (pos < head) {
		const uint8_t *e = r->buf + (pos & r->mask);
		uint32_t l = load_le32(e);

		if (l == DP_RING_WRAP) {
			pos += r->size - (pos & r->mask);
			continue;
		}
		if (load_le32(e + 4) == c->src && c->src != DP_RING_SRC_LOCAL) {
			pos += dp_ring_entry_bytes(l);
			continue;
		}
		pg_store_release(&c->pos[i], pos);
		*rec = e + DP_RING_HDR;
		*len = l;
		return 1;
	}
	/* release: our reads of what we passed came before the producer may reuse it */
	pg_store_release(&c->pos[i], pos);
	return 0;
}

void dp_ring_next(struct dp_ring_set *s, struct dp_ring_cursor *c, unsigned i)
{
	struct dp_ring *r = s->rings[i];
	uint64_t pos = pg_load_relaxed(&c->pos[i]);

	pg_store_release(&c->pos[i],
			 pos + dp_ring_entry_bytes(load_le32(r->buf + (pos & r->mask))));
}

uint64_t dp_ring_lag(struct dp_ring_set *s, const struct dp_ring_cursor *c, unsigned i)
{
	return pg_load_acquire(&s->rings[i]->head) - pg_load_relaxed(&c->pos[i]);
}
