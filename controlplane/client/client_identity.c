/*
 * client_identity.c - identities through libpeergraph: create, list, delete, rename, make
 * default, export and import (peergraph.h; IDENTITY_* in doc/api.md). The keys never leave
 * the daemon except as an export encrypted under the caller's password.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_priv.h"
#include "pg_error.h"

/* Copies the reply's IDENTITY (at most 190 bytes, checked) into peer_name. 0. */
static int reply_identity(struct peergraph *pg, char peer_name[PEERGRAPH_PEER_NAME_SIZE])
{
	struct pg_api_field f;
	const uint8_t *body;
	size_t len;

	body = pgc_body(pg, &len);
	peer_name[0] = '\0';
	if (pg_api_find(body, len, PG_API_T_IDENTITY, &f)) /* required by the schema */
		pg_api_str(&f, peer_name, PEERGRAPH_PEER_NAME_SIZE);
	return 0;
}

int peergraph_identity_create(struct peergraph *pg, const char *classifier,
			      const char *friendly_name, unsigned flags,
			      char peer_name[PEERGRAPH_PEER_NAME_SIZE])
{
	int err;

	if (!classifier || !peer_name)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_IDENTITY_CREATE)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_CLASSIFIER, classifier);
	if (friendly_name)
		pg_api_put_str(&pg->w, PG_API_T_FRIENDLY_NAME, friendly_name);
	if (flags)
		pg_api_put_u32(&pg->w, PG_API_T_FLAGS, flags);
	if ((err = pgc_call(pg)))
		return err;
	return reply_identity(pg, peer_name);
}

/* Fills listed identity i from its ITEM. */
static void identity_fill(const struct pg_api_field *item, void *out, size_t i)
{
	struct peergraph_identity *id = (struct peergraph_identity *)out + i;
	struct pg_api_field f;
	struct pg_api_iter it;

	memset(id, 0, sizeof(*id));
	pg_api_iter_init(&it, item->v, item->len);
	while (pg_api_iter_next(&it, &f)) {
		if (f.tag == PG_API_T_IDENTITY)
			pg_api_str(&f, id->peer_name, sizeof(id->peer_name));
		else if (f.tag == PG_API_T_FRIENDLY_NAME)
			pg_api_str(&f, id->friendly_name, sizeof(id->friendly_name));
		else if (f.tag == PG_API_T_FLAGS)
			id->flags = pg_api_u32(&f);
	}
}

long peergraph_identity_list(struct peergraph *pg, struct peergraph_identity *out, size_t max)
{
	return pgc_call_list(pg, PG_API_IDENTITY_LIST, max, identity_fill, out);
}

int peergraph_identity_delete(struct peergraph *pg, const char *peer_name)
{
	return pgc_call_str(pg, PG_API_IDENTITY_DELETE, PG_API_T_IDENTITY, peer_name);
}

int peergraph_identity_set_friendly_name(struct peergraph *pg, const char *peer_name,
					 const char *friendly_name)
{
	int err;

	if (!peer_name || !friendly_name)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_IDENTITY_SET_NAME)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_IDENTITY, peer_name);
	pg_api_put_str(&pg->w, PG_API_T_FRIENDLY_NAME, friendly_name);
	return pgc_call(pg);
}

int peergraph_identity_set_default(struct peergraph *pg, const char *peer_name)
{
	return pgc_call_str(pg, PG_API_IDENTITY_SET_DEFAULT, PG_API_T_IDENTITY, peer_name);
}

int peergraph_identity_export(struct peergraph *pg, const char *peer_name, const char *password,
			      uint8_t **data, size_t *len)
{
	struct pg_api_field f;
	const uint8_t *body;
	size_t blen;
	int err;

	if (!peer_name || !password || !data || !len)
		return -EINVAL;
	*data = NULL;
	*len = 0;
	if ((err = pgc_begin(pg, PG_API_IDENTITY_EXPORT)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_IDENTITY, peer_name);
	pg_api_put_str(&pg->w, PG_API_T_PASSWORD, password);
	if ((err = pgc_call(pg)))
		return err;
	body = pgc_body(pg, &blen);
	if (!pg_api_find(body, blen, PG_API_T_DATA, &f)) /* required by the schema */
		return pgc_fail(pg, PG_E_API_FIELD, "the daemon's export is missing");
	*data = malloc(f.len ? f.len : 1);
	if (!*data)
		return -ENOMEM;
	memcpy(*data, f.v, f.len);
	*len = f.len;
	return 0;
}

int peergraph_identity_import(struct peergraph *pg, const uint8_t *data, size_t len,
			      const char *password, unsigned flags,
			      char peer_name[PEERGRAPH_PEER_NAME_SIZE])
{
	int err;

	if ((!data && len) || !password || !peer_name)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_IDENTITY_IMPORT)))
		return err;
	pg_api_put_bytes(&pg->w, PG_API_T_DATA, data, len);
	pg_api_put_str(&pg->w, PG_API_T_PASSWORD, password);
	if (flags)
		pg_api_put_u32(&pg->w, PG_API_T_FLAGS, flags);
	if ((err = pgc_call(pg)))
		return err;
	return reply_identity(pg, peer_name);
}
