/*
 * secdata.c - the security-data codec and the signed messages (layout in secdata.h).
 *
 * Nothing here hashes or signs: this is the part of record security that parses untrusted
 * bytes, kept free of crypto so that its fuzz target runs millions of inputs a minute. Every
 * length is checked before it is read and exactly one encoding of each value is accepted.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pg_bytes.h"
#include "pg_error.h"
#include "secdata.h"

static const char record_domain[PG_SECDATA_DOMAIN_LEN] = "peergraph record v1";
static const char bundle_domain[PG_SECDATA_DOMAIN_LEN] = "peergraph bundle v1";

_Static_assert(sizeof("peergraph record v1") == PG_SECDATA_DOMAIN_LEN, "domain + NUL");
_Static_assert(sizeof("peergraph bundle v1") == PG_SECDATA_DOMAIN_LEN, "domain + NUL");

/* 40 lowercase hex digits, then '.', then at least one classifier byte. */
static bool secured(const char *id, size_t len)
{
	if (len < PG_SECDATA_AUTHORITY_LEN + 2 || id[PG_SECDATA_AUTHORITY_LEN] != '.')
		return false;
	for (int i = 0; i < PG_SECDATA_AUTHORITY_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

bool pg_secdata_id_has_authority(const char *id, size_t len,
				 const char authority[PG_SECDATA_AUTHORITY_LEN])
{
	return secured(id, len) && memcmp(id, authority, PG_SECDATA_AUTHORITY_LEN) == 0;
}

bool pg_secdata_same_authority(const char *a, size_t alen, const char *b, size_t blen)
{
	return secured(a, alen) && secured(b, blen) && memcmp(a, b, PG_SECDATA_AUTHORITY_LEN) == 0;
}

int pg_bundle_path_len(uint32_t index, uint32_t size)
{
	uint32_t fn = index, sn = size - 1;
	int len = 0;

	if (size == 0 || size > PG_BUNDLE_MAX || index >= size)
		return -1;
	/* The loop of RFC 9162 §2.1.3.2 without the hashing: one proof hash per turn. */
	while (sn != 0) {
		len++;
		if (!(fn & 1) && fn == sn) {
			/* rightmost node without a right sibling: promoted unchanged */
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		}
		fn >>= 1;
		sn >>= 1;
	}
	return len;
}

int pg_secdata_decode(const uint8_t *buf, size_t len, struct pg_secdata *out)
{
	struct pg_secdata sd;
	int want;

	if (len == 0)
		return PG_E_SIG_UNSIGNED;
	if (len < PG_SECDATA_SINGLE_LEN || buf[PG_SECDATA_OFF_FMT] != PG_SECDATA_FMT ||
	    buf[PG_SECDATA_OFF_RESERVED] != 0)
		return PG_E_SIG_MALFORMED;
	memset(&sd, 0, sizeof(sd));
	sd.kind = buf[PG_SECDATA_OFF_KIND];
	sd.leaf_index = load_le16(buf + PG_SECDATA_OFF_INDEX);
	sd.bundle_size = load_le16(buf + PG_SECDATA_OFF_SIZE);
	sd.nproof = buf[PG_SECDATA_OFF_NPROOF];
	sd.key_id = buf + PG_SECDATA_OFF_KEY_ID;
	sd.sig = buf + PG_SECDATA_OFF_SIG;

	switch (sd.kind) {
	case PG_SECDATA_SINGLE:
		if (sd.leaf_index != 0 || sd.bundle_size != 0 || sd.nproof != 0 ||
		    len != PG_SECDATA_SINGLE_LEN)
			return PG_E_SIG_MALFORMED;
		break;
	case PG_SECDATA_BUNDLE:
		want = pg_bundle_path_len(sd.leaf_index, sd.bundle_size);
		if (want < 0 || sd.nproof != want ||
		    len != PG_SECDATA_BUNDLE_HDR_LEN + (size_t)sd.nproof * PG_SECDATA_HASH_LEN)
			return PG_E_SIG_MALFORMED;
		sd.root = buf + PG_SECDATA_OFF_ROOT;
		sd.proof = buf + PG_SECDATA_OFF_PROOF;
		break;
	default:
		return PG_E_SIG_MALFORMED;
	}
	*out = sd;
	return 0;
}

size_t pg_secdata_size(const struct pg_secdata *sd)
{
	if (sd->kind == PG_SECDATA_BUNDLE)
		return PG_SECDATA_BUNDLE_HDR_LEN + (size_t)sd->nproof * PG_SECDATA_HASH_LEN;
	return PG_SECDATA_SINGLE_LEN;
}

/* True when a decoder would accept sd's fields (paired with the checks of decode). */
static bool encodable(const struct pg_secdata *sd)
{
	if (!sd->key_id || !sd->sig)
		return false;
	if (sd->kind == PG_SECDATA_SINGLE)
		return sd->leaf_index == 0 && sd->bundle_size == 0 && sd->nproof == 0;
	if (sd->kind != PG_SECDATA_BUNDLE || !sd->root || (sd->nproof && !sd->proof))
		return false;
	return pg_bundle_path_len(sd->leaf_index, sd->bundle_size) == sd->nproof;
}

long pg_secdata_encode(const struct pg_secdata *sd, uint8_t *out, size_t cap)
{
	size_t len;

	if (!encodable(sd))
		return PG_E_SIG_MALFORMED;
	len = pg_secdata_size(sd);
	if (cap < len)
		return -ENOSPC;
	out[PG_SECDATA_OFF_FMT] = PG_SECDATA_FMT;
	out[PG_SECDATA_OFF_KIND] = sd->kind;
	store_le16(out + PG_SECDATA_OFF_INDEX, sd->leaf_index);
	store_le16(out + PG_SECDATA_OFF_SIZE, sd->bundle_size);
	out[PG_SECDATA_OFF_NPROOF] = sd->nproof;
	out[PG_SECDATA_OFF_RESERVED] = 0;
	memcpy(out + PG_SECDATA_OFF_KEY_ID, sd->key_id, PG_SECDATA_KEY_ID_LEN);
	memcpy(out + PG_SECDATA_OFF_SIG, sd->sig, PG_SECDATA_SIG_LEN);
	if (sd->kind == PG_SECDATA_BUNDLE) {
		memcpy(out + PG_SECDATA_OFF_ROOT, sd->root, PG_SECDATA_HASH_LEN);
		if (sd->nproof)
			memcpy(out + PG_SECDATA_OFF_PROOF, sd->proof,
			       (size_t)sd->nproof * PG_SECDATA_HASH_LEN);
	}
	return (long)len;
}

void pg_secdata_record_prefix(const uint8_t graph_tag[PG_SECDATA_GRAPH_TAG_LEN],
			      uint8_t out[PG_SECDATA_RECORD_PREFIX_LEN])
{
	memcpy(out, record_domain, PG_SECDATA_DOMAIN_LEN);
	memcpy(out + PG_SECDATA_DOMAIN_LEN, graph_tag, PG_SECDATA_GRAPH_TAG_LEN);
}

void pg_secdata_bundle_msg(const uint8_t graph_tag[PG_SECDATA_GRAPH_TAG_LEN], uint16_t bundle_size,
			   const uint8_t root[PG_SECDATA_HASH_LEN],
			   uint8_t out[PG_SECDATA_BUNDLE_MSG_LEN])
{
	memcpy(out, bundle_domain, PG_SECDATA_DOMAIN_LEN);
	memcpy(out + PG_SECDATA_DOMAIN_LEN, graph_tag, PG_SECDATA_GRAPH_TAG_LEN);
	store_le16(out + PG_SECDATA_RECORD_PREFIX_LEN, bundle_size);
	memcpy(out + PG_SECDATA_RECORD_PREFIX_LEN + 2, root, PG_SECDATA_HASH_LEN);
}
