/*
 * keytab.h - the key table: verified public keys in shared memory, control plane -> dataplane.
 *
 * The control plane verifies identities and GMC chains and publishes, for each key it has
 * verified, one slot: the key id (SHA-256 of the raw Ed25519 public key), the public key, the
 * role, the validity window and a revoked flag. The dataplane checks record signatures against
 * these slots and nothing else (DESIGN.md, "Security"). One process writes the table, the one
 * that created it; any number of processes and threads read it without locks and never see a
 * half-written slot. How that works is in keytab.c ("HOW IT WORKS").
 *
 * A segment's name lives in a namespace every local user can create names in (/dev/shm), so a
 * reader trusts a segment by who owns it, never by its name: see pg_keytab_attach_owned and
 * keytab.c ("WHO IS TRUSTED").
 *
 * The segment, in the host's native byte order (it never leaves the machine):
 *
 *   header  128 bytes  struct pg_keytab_hdr
 *   slots   nslots x 128 bytes  struct pg_keytab_slot, an open-addressing hash table
 *
 * Every field that changes while readers run is a lock-free C11 atomic of a fixed width
 * (asserted address-free below, so it works between processes); the rest is written once
 * before the magic is published. Sizes and offsets are asserted at the end of this file.
 */
#ifndef PG_KEYTAB_H
#define PG_KEYTAB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PG_KEYTAB_MAGIC	     0x544b4750u /* "PGKT" in a little-endian dump */
#define PG_KEYTAB_LAYOUT     1u
#define PG_KEYTAB_ID_LEN     32 /* SHA-256 of the raw public key */
#define PG_KEYTAB_PUBKEY_LEN 32 /* raw Ed25519 public key */

enum {
	PG_KEYTAB_MIN_SLOTS = 8,
	PG_KEYTAB_MAX_SLOTS = 1u << 20, /* 128 MiB of slots */
	/* A reader gives up on a slot that kept changing this many times (PG_E_KEYTAB_BUSY). */
	PG_KEYTAB_READ_TRIES = 256,
};

enum pg_keytab_role {
	PG_KEYTAB_ROLE_NONE = 0, /* known key without a group role (e.g. a graph identity) */
	PG_KEYTAB_ROLE_MEMBER = 1,
	PG_KEYTAB_ROLE_INVITER = 2, /* member allowed to issue invitations */
	PG_KEYTAB_ROLE_ADMIN = 3,
	PG_KEYTAB_ROLE_MAX = 3,
};

/* The segment header. The first cache line is written once; the second changes with writes. */
struct pg_keytab_hdr {
	_Atomic uint32_t magic; /* PG_KEYTAB_MAGIC, stored last at creation (release) */
	uint32_t layout;	/* PG_KEYTAB_LAYOUT */
	uint64_t size;		/* bytes of the whole segment */
	uint32_t nslots;	/* power of two */
	uint32_t slot_size;	/* sizeof(struct pg_keytab_slot) */
	uint32_t slots_off;	/* sizeof(struct pg_keytab_hdr) */
	uint32_t capacity;	/* most keys the table takes: nslots * 3 / 4 */
	uint64_t hash_seed;	/* random per segment: slot = XXH3(key id, seed) & (nslots - 1) */
	int32_t writer_pid;	/* the one process that may write */
	uint32_t reserved0[5];	/* zero */
	_Atomic uint64_t generation; /* + 1 after every publish, update and revoke */
	_Atomic uint32_t count;	     /* keys held (slots in use) */
	_Atomic uint32_t max_probe;  /* longest probe distance of any key held */
	uint64_t reserved1[6];	     /* zero */
};

/* One key. seq == 0: never used; odd: being written; even >= 2: stable. */
struct pg_keytab_slot {
	_Atomic uint64_t seq;
	_Atomic uint64_t generation;		       /* 1 at publish, + 1 per update or revoke */
	_Atomic uint64_t key_id[PG_KEYTAB_ID_LEN / 8]; /* written once, at publish */
	_Atomic uint64_t pubkey[PG_KEYTAB_PUBKEY_LEN / 8]; /* written once, at publish */
	_Atomic uint64_t not_before_us; /* validity window, µs since the epoch, inclusive */
	_Atomic uint64_t not_after_us;
	_Atomic uint8_t role;	 /* enum pg_keytab_role */
	_Atomic uint8_t revoked; /* 0 or 1; never goes back to 0 */
	uint8_t reserved0[6];	 /* zero */
	uint64_t reserved1[3];	 /* zero */
};

/* What a reader gets: a private copy of one slot, taken whole (never a mix of two writes). */
struct pg_keytab_entry {
	uint8_t key_id[PG_KEYTAB_ID_LEN];
	uint8_t pubkey[PG_KEYTAB_PUBKEY_LEN];
	uint64_t not_before_us;
	uint64_t not_after_us;
	uint64_t generation;
	uint8_t role; /* enum pg_keytab_role */
	bool revoked;
};

/* A process's handle on a segment: a writer's (from create) or a reader's (from attach). */
struct pg_keytab;

/* Writer side: the control plane process, and only it (enforced, see keytab.c). */

/*
 * Creates the segment, owned by the caller's euid and mode 0640 (less if the umask says so):
 * shm_open(name) with O_EXCL ("/pg-keytab-..."), or if name is NULL a memfd sealed against
 * shrinking (F_SEAL_SHRINK, F_SEAL_SEAL); nslots a power of two in [PG_KEYTAB_MIN_SLOTS,
 * PG_KEYTAB_MAX_SLOTS]. Returns 0 and *out, PG_E_KEYTAB_EXISTS or PG_E_KEYTAB_OWNER if the
 * name exists, -EINVAL on bad arguments, or -errno.
 *
 * An existing name is never opened for writing, truncated, reused or removed: create refuses
 * it, with PG_E_KEYTAB_OWNER if another user owns it (someone took the name: readers refuse
 * that segment too, and only its owner or root can remove it), else PG_E_KEYTAB_EXISTS (ours:
 * a writer of ours still runs, or one died and left it). Only the caller can tell a dead
 * writer's segment from a live one (e.g. by its own lock or pid file); after a crash it calls
 * pg_keytab_unlink(name) and creates again, and a PG_E_KEYTAB_OWNER then means another user
 * took the name in between: do not start.
 */
int pg_keytab_create(const char *name, uint32_t nslots, struct pg_keytab **out);

/* Unmaps the writer's segment and unlinks its name; attached readers keep their mapping. */
void pg_keytab_destroy(struct pg_keytab *kt);

/* Removes a segment name left by a writer that died. Returns 0, -ENOENT or -errno. */
int pg_keytab_unlink(const char *name);

/* The segment's file descriptor (owned by the handle), for pg_keytab_attach_fd. */
int pg_keytab_fd(const struct pg_keytab *kt);

/*
 * Publishes a key the caller has VERIFIED (its chain, and key_id == SHA-256(pubkey)): the
 * keytab trusts its writer and checks neither. It does check the key itself: a small-order,
 * non-canonical or mixed-order public key (shared/ed25519.h) is refused, since the signatures
 * verifiers would accept for it depend on the library. Returns 0, PG_E_KEYTAB_BAD_KEY,
 * PG_E_KEYTAB_DUPLICATE, PG_E_KEYTAB_FULL, -EINVAL (role > MAX or not_before > not_after) or
 * PG_E_KEYTAB_NOT_WRITER.
 */
int pg_keytab_publish(struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN],
		      const uint8_t pubkey[PG_KEYTAB_PUBKEY_LEN], enum pg_keytab_role role,
		      uint64_t not_before_us, uint64_t not_after_us);

/*
 * Renews a key: a new validity window, generation + 1. Returns 0, PG_E_KEYTAB_NO_KEY,
 * PG_E_KEYTAB_REVOKED, -EINVAL (not_before > not_after) or PG_E_KEYTAB_NOT_WRITER.
 */
int pg_keytab_update(struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN],
		     uint64_t not_before_us, uint64_t not_after_us);

/*
 * Revokes a key for good: revoked = 1, generation + 1. Revoking a revoked key changes nothing
 * and returns 0. Returns 0, PG_E_KEYTAB_NO_KEY or PG_E_KEYTAB_NOT_WRITER.
 */
int pg_keytab_revoke(struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN]);

/* Reader side: the dataplane, any number of processes and threads, no locks. */

/*
 * Maps the segment "name" read-only if user owner (the writer's) made it; validates its header.
 * Checked on the opened descriptor (fstat), in this order, before anything is mapped: the
 * segment is owned by uid owner (PG_E_KEYTAB_OWNER), it is not writable by group or others
 * (PG_E_KEYTAB_MODE), and its size holds a header (PG_E_KEYTAB_TOO_SMALL) and is what the
 * header says (PG_E_KEYTAB_SIZE, which also catches a truncated segment); then the header
 * (PG_E_KEYTAB_MAGIC, PG_E_KEYTAB_LAYOUT, PG_E_KEYTAB_SIZE). Returns 0 and *out, one of those,
 * -ENOENT, -EINVAL (a bad name) or -errno; on failure nothing stays mapped or open.
 *
 * After attach the reader trusts the owner: the owner (or root) could still chmod the segment,
 * or shrink a named one, which makes this reader's loads past the new end fault (SIGBUS), as
 * with any shared mapping. Nobody else can: they have no write permission. A memfd from
 * pg_keytab_create is sealed: nobody can shrink it.
 */
int pg_keytab_attach_owned(const char *name, uid_t owner, struct pg_keytab **out);

/* pg_keytab_attach_owned(name, geteuid(), out): for a writer that runs as the same user. */
int pg_keytab_attach(const char *name, struct pg_keytab **out);

/*
 * As pg_keytab_attach_owned, for an open descriptor of the segment (not consumed: close it
 * after), with the same checks: a descriptor handed over by another process is no more trusted
 * than a name.
 */
int pg_keytab_attach_fd_owned(int fd, uid_t owner, struct pg_keytab **out);

/* pg_keytab_attach_fd_owned(fd, geteuid(), out). */
int pg_keytab_attach_fd(int fd, struct pg_keytab **out);

/* Unmaps a reader's segment. */
void pg_keytab_detach(struct pg_keytab *kt);

/*
 * Copies the slot of key_id into *out, whole. Lock-free, callable on any handle from any
 * thread. Returns 0, PG_E_KEYTAB_NO_KEY, or PG_E_KEYTAB_BUSY if the slot kept changing for
 * PG_KEYTAB_READ_TRIES tries (a writer stopped mid-write): treat as "not known yet", retry later.
 */
int pg_keytab_lookup(const struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN],
		     struct pg_keytab_entry *out);

/*
 * The table's generation: it grows with every publish, update and revoke. A lookup made after
 * reading generation g sees every change up to g, so "g unchanged" means "nothing to re-check".
 */
uint64_t pg_keytab_generation(const struct pg_keytab *kt);

/* Keys held now, and the most the table takes (publish past it gives PG_E_KEYTAB_FULL). */
uint32_t pg_keytab_count(const struct pg_keytab *kt);
uint32_t pg_keytab_capacity(const struct pg_keytab *kt);

/* True if e is not revoked and its window covers [from_us, to_us]; roles are the caller's. */
bool pg_keytab_entry_covers(const struct pg_keytab_entry *e, uint64_t from_us, uint64_t to_us);

/* The layout, checked: every size and offset is part of the format (PG_KEYTAB_LAYOUT). */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free (address-free)");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free (address-free)");
_Static_assert(ATOMIC_CHAR_LOCK_FREE == 2, "8-bit atomics must be lock-free (address-free)");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && _Alignof(_Atomic uint64_t) == 8, "u64 atomic");
_Static_assert(sizeof(_Atomic uint32_t) == 4 && sizeof(_Atomic uint8_t) == 1, "u32/u8 atomic");

_Static_assert(offsetof(struct pg_keytab_hdr, magic) == 0, "hdr.magic");
_Static_assert(offsetof(struct pg_keytab_hdr, layout) == 4, "hdr.layout");
_Static_assert(offsetof(struct pg_keytab_hdr, size) == 8, "hdr.size");
_Static_assert(offsetof(struct pg_keytab_hdr, nslots) == 16, "hdr.nslots");
_Static_assert(offsetof(struct pg_keytab_hdr, slot_size) == 20, "hdr.slot_size");
_Static_assert(offsetof(struct pg_keytab_hdr, slots_off) == 24, "hdr.slots_off");
_Static_assert(offsetof(struct pg_keytab_hdr, capacity) == 28, "hdr.capacity");
_Static_assert(offsetof(struct pg_keytab_hdr, hash_seed) == 32, "hdr.hash_seed");
_Static_assert(offsetof(struct pg_keytab_hdr, writer_pid) == 40, "hdr.writer_pid");
_Static_assert(offsetof(struct pg_keytab_hdr, reserved0) == 44, "hdr.reserved0");
_Static_assert(offsetof(struct pg_keytab_hdr, generation) == 64, "hdr.generation");
_Static_assert(offsetof(struct pg_keytab_hdr, count) == 72, "hdr.count");
_Static_assert(offsetof(struct pg_keytab_hdr, max_probe) == 76, "hdr.max_probe");
_Static_assert(offsetof(struct pg_keytab_hdr, reserved1) == 80, "hdr.reserved1");
_Static_assert(sizeof(struct pg_keytab_hdr) == 128, "hdr size");

_Static_assert(offsetof(struct pg_keytab_slot, seq) == 0, "slot.seq");
_Static_assert(offsetof(struct pg_keytab_slot, generation) == 8, "slot.generation");
_Static_assert(offsetof(struct pg_keytab_slot, key_id) == 16, "slot.key_id");
_Static_assert(offsetof(struct pg_keytab_slot, pubkey) == 48, "slot.pubkey");
_Static_assert(offsetof(struct pg_keytab_slot, not_before_us) == 80, "slot.not_before_us");
_Static_assert(offsetof(struct pg_keytab_slot, not_after_us) == 88, "slot.not_after_us");
_Static_assert(offsetof(struct pg_keytab_slot, role) == 96, "slot.role");
_Static_assert(offsetof(struct pg_keytab_slot, revoked) == 97, "slot.revoked");
_Static_assert(offsetof(struct pg_keytab_slot, reserved0) == 98, "slot.reserved0");
_Static_assert(offsetof(struct pg_keytab_slot, reserved1) == 104, "slot.reserved1");
_Static_assert(sizeof(struct pg_keytab_slot) == 128, "slot size: two cache lines");

#endif
