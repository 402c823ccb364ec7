/*
 * trust.h - the keys this node trusts: what peergraphd publishes in the key table that its
 * dataplane verifies secured graphs' records against (shared/keytab.h, DESIGN.md "Security").
 *
 * Until groups exist (their certificate chains will publish members), a node trusts:
 *   - its own identities (every identity in its store, and each one created or imported);
 *   - the keys its administrator lists in the file `[daemon] trust` names: one entry per
 *     line, either 64 hex digits (a raw Ed25519 public key) or the path of an identity
 *     certificate (PEM, self-signed: its signature is checked), `#` starting a comment.
 * The file is read at start and again at every SIGHUP; a key already published stays (keys
 * are never taken back by removing a line: revocation comes with groups).
 */
#ifndef PGD_TRUST_H
#define PGD_TRUST_H

#include <stddef.h>

#include "identity.h"
#include "keytab.h"

enum { PGD_TRUST_SLOTS = 4096 }; /* the key table's slots: 3072 keys */

/* Publishes an identity's public key (a duplicate is fine). 0 or a PG_E_KEYTAB_* code. */
int pgd_trust_identity(struct pg_keytab *kt, const struct pg_identity *id);
/* Publishes every identity of the store. 0 or the first error (msg says which). */
int pgd_trust_store(struct pg_keytab *kt, struct pg_identity_store *ids, char *msg, size_t len);
/* Reads a trust file and publishes its keys. Returns how many keys it published (new ones),
 * or a negative error with msg naming the file, the line and what is wrong (nothing after a
 * bad line is published). path "" : 0. */
int pgd_trust_file(struct pg_keytab *kt, const char *path, char *msg, size_t len);

#endif
