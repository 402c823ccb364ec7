/*
 * keytab.c - the key table in shared memory: one writer (the control plane), lock-free readers.
 *
 * The control plane creates the segment, publishes the keys it has verified, renews and
 * revokes them; dataplane workers, in its process or in another one that attached the segment
 * read-only, look keys up by key id while records stream in. Layout and API are in keytab.h.
 *
 * Single writer. Only the creating process writes, and inside it one thread at a time:
 * the segment is created with O_EXCL and no call opens an existing one for writing, readers
 * map it PROT_READ, every write checks getpid() against the creator's pid (a forked child that
 * inherited the handle gets PG_E_KEYTAB_NOT_WRITER), and two threads writing at once trip an
 * assertion. The writer trusts its caller: the keys it is given are verified ones.
 *
 * WHO IS TRUSTED
 *
 * A reader trusts every key in the segment, so it must know who wrote it, and the name says
 * nothing: shm names live in /dev/shm, where every local user may create files. A user who
 * creates the name first (say while the control plane restarts) would otherwise have the
 * dataplane check signatures against their keys. So a reader trusts a segment by its owner:
 *
 * - attach checks, with fstat on the descriptor it then maps (no stat of the name that the
 *   file could be swapped under), that the segment is owned by the writer's uid (by default
 *   the reader's own euid) and that neither group nor others may write it. A POSIX ACL that
 *   grants a write shows in the group bits of the mode (its mask), so it is refused too.
 * - attach sizes its mapping from that fstat and checks the size against the header before it
 *   reads past the header, so a truncated segment is refused with an error instead of faulting
 *   (SIGBUS) on the missing pages.
 * - attach opens the name O_NONBLOCK, so a FIFO planted under it cannot hang the reader before
 *   fstat refuses it.
 * - create uses O_EXCL with mode 0640, and a taken name is refused, never opened for writing,
 *   reused or removed (keytab.h, pg_keytab_create, says what the caller does then). A memfd,
 *   which starts at mode 0777, gets mode 0640 too, so attach_fd accepts it, and is sealed
 *   against shrinking (F_SEAL_SHRINK, and F_SEAL_SEAL so that no seal is added later).
 *
 * This stops other users, not root or the owner: root may write anything, and the owner may
 * chmod a segment, or shrink a named one, after readers attached (see LIMITATIONS; shm names
 * cannot be sealed). Another user can still take the name first and keep the control plane
 * from creating it (a denial of service, not a forgery: create and attach both refuse that
 * segment, with PG_E_KEYTAB_OWNER).
 *
 * HOW IT WORKS
 *
 * The slots are themselves the hash index: open addressing with linear probing, home slot =
 * XXH3-64(key id, per-segment random seed) & (nslots - 1). A key is written into the first
 * never-used slot on its probe path and stays there: there is no deletion (revocation is a
 * flag), so a slot goes from unused to used once, a key's probe path never changes, and a probe
 * can stop at the first unused slot. The writer also keeps max_probe, the longest distance of
 * any key from its home slot, so a lookup of an absent key reads at most max_probe + 1 slots.
 *
 * Each slot carries a sequence counter (a seqlock, Lameter 2003; Linux include/linux/seqlock.h):
 * 0 = never used, odd = a write is under way, even >= 2 = stable. A write makes it odd, stores
 * the payload, and makes it even again; a reader reads seq, copies the payload, re-reads seq,
 * and keeps the copy only if both reads gave the same even value. Otherwise it retries, at most
 * PG_KEYTAB_READ_TRIES times, and then answers PG_E_KEYTAB_BUSY rather than spin on a writer
 * that was descheduled mid-write.
 *
 * The memory model. The payload races with the copy by design, so in C11 every payload field
 * is an atomic accessed relaxed (no data race, hence no undefined behaviour and nothing for TSan
 * to report), and the ordering comes from fences: the fence-based seqlock of H.-J. Boehm,
 * "Can Seqlocks Get Along With Programming Language Memory Models?", MSPC 2012 (HPL-2012-68):
 *
 *   writer                          reader
 *   seq = s + 1      (release)      s0 = seq              (acquire)
 *   fence(release)                  copy payload          (relaxed loads)
 *   payload stores   (relaxed)      fence(acquire)
 *   seq = s + 2      (release)      s1 = seq              (relaxed);  ok iff s0 == s1, even
 *
 * If the copy read any store of a later write, that store follows the writer's release fence
 * and precedes the reader's acquire fence, so the fences synchronize and the re-read of seq
 * sees that write's odd value or newer: s1 != s0. If s0 is an even value, the acquire load
 * synchronizes with the release store that wrote it, so the copy sees at least that write's
 * payload. On x86-64 all of this compiles to plain moves and compiler barriers; on weaker
 * hardware the fences emit the barriers that the kernel's smp_wmb()/smp_rmb() stand for.
 *
 * Probing past other keys does not take the seqlock: a key id is written once, before the
 * release store that first makes the slot's seq 2, and every later seq store is a release
 * store by the writer too, so an acquire load that sees seq >= 2 also sees the key id bytes.
 * A slot with seq 1 is being filled for the first time: the key there (or ours) is not
 * published yet, and nothing can lie beyond it on our path, so the probe answers "absent".
 *
 * The header's generation grows by one, with a release store, after every completed write; a
 * reader that loads it with acquire and then looks keys up sees every write counted so far.
 * The header itself is filled before its magic is stored (release), and attach loads the
 * magic with acquire: a reader that races creation gets PG_E_KEYTAB_MAGIC, never a half header.
 *
 * LIMITATIONS
 *
 * - Capacity is fixed at creation: nslots * 3 / 4 keys (the load factor that keeps linear
 *   probes short); one more publish gets PG_E_KEYTAB_FULL. Revoked keys keep their slot, so a
 *   long-lived control plane that rotates keys must size for every key it will ever publish,
 *   or build a fresh segment and have the dataplane re-attach (not provided here).
 * - Reads of a slot that a writer keeps rewriting, or of one whose writer was descheduled or
 *   died mid-write, give PG_E_KEYTAB_BUSY after PG_KEYTAB_READ_TRIES tries: a reader never
 *   blocks, but it can come back without an answer (the dataplane defers the record). A
 *   writer that dies mid-write leaves that slot busy for good (rebuild the segment); every
 *   other slot stays readable.
 * - Every shared atomic is at most 8 bytes, so a reader's atomic loads are plain loads, which
 *   a PROT_READ mapping allows (a 16-byte atomic load would be a cmpxchg16b and fault).
 * - Readers trust the header fields they validated at attach (copied into the handle), and a
 *   writer never resizes the segment: a file truncated under an attached reader makes its
 *   loads fault (SIGBUS), as with any shared mapping. Only the owner or root can do that to a
 *   named segment (no one else may write it, see WHO IS TRUSTED), and both are trusted anyway;
 *   nobody can do it to a memfd segment, which is sealed against shrinking.
 * - The segment is in native byte order and only for processes on this host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ed25519.h"
#include "keytab.h"
#include "pg_assert.h"
#include "pg_atomic.h"
#include "pg_error.h"

#define ID_WORDS  (PG_KEYTAB_ID_LEN / 8)
#define KEY_WORDS (PG_KEYTAB_PUBKEY_LEN / 8)

/* Owner reads and writes, group reads: never a write bit for group or others (attach checks). */
#define SEGMENT_MODE 0640

struct pg_keytab {
	void *map;
	size_t map_len;
	struct pg_keytab_hdr *hdr; /* PROT_READ for readers: never stored through */
	struct pg_keytab_slot *slots;
	/* Validated copies of the header's geometry: readers never re-read it from the segment. */
	uint32_t mask;
	uint32_t capacity;
	uint64_t seed;
	/* Writer only. */
	bool writer;
	pid_t writer_pid;
	int fd;
	char *name;	     /* NULL for a memfd */
	_Atomic int writing; /* 1 while a write runs: catches two writer threads */
};

static size_t segment_len(uint32_t nslots)
{
	return sizeof(struct pg_keytab_hdr) + (size_t)nslots * sizeof(struct pg_keytab_slot);
}

static bool valid_nslots(uint32_t n)
{
	return n >= PG_KEYTAB_MIN_SLOTS && n <= PG_KEYTAB_MAX_SLOTS && (n & (n - 1)) == 0;
}

/* shm_open names: "/" then 1..NAME_MAX-1 characters, none of them '/'. */
static bool valid_name(const char *name)
{
	size_t len = strnlen(name, NAME_MAX + 1);

	return name[0] == '/' && len >= 2 && len < NAME_MAX && !strchr(name + 1, '/');
}

static uint32_t home_slot(const struct pg_keytab *kt, const uint8_t *id)
{
	return (uint32_t)XXH3_64bits_withSeed(id, PG_KEYTAB_ID_LEN, kt->seed) & kt->mask;
}

static void store_words(_Atomic uint64_t *dst, const uint8_t *src, int nwords)
{
	for (int i = 0; i < nwords; i++) {
		uint64_t w;

		memcpy(&w, src + 8 * i, 8);
		pg_store_relaxed(&dst[i], w);
	}
}

static void load_words(uint8_t *dst, const _Atomic uint64_t *src, int nwords)
{
	for (int i = 0; i < nwords; i++) {
		uint64_t w = pg_load_relaxed((_Atomic uint64_t *)&src[i]);

		memcpy(dst + 8 * i, &w, 8);
	}
}

/*
 * Finds the slot of key id, or NULL. Stops at a slot never used (seq 0) or being filled for the
 * first time (seq 1), or after max_probe + 1 slots (see HOW IT WORKS).
 */
static struct pg_keytab_slot *find(const struct pg_keytab *kt, const uint8_t *id)
{
	/* Relaxed: a stale, smaller bound only ends the probe where an earlier table ended it. */
	uint32_t limit = pg_load_relaxed(&kt->hdr->max_probe);
	uint32_t h = home_slot(kt, id);

	if (limit > kt->mask)
		limit = kt->mask;
	for (uint32_t d = 0; d <= limit; d++) {
		struct pg_keytab_slot *s = &kt->slots[(h + d) & kt->mask];
		uint8_t have[PG_KEYTAB_ID_LEN];
		/* Acquire: seq >= 2 was stored (release) after the key id, so we see the key id. */
		uint64_t seq = pg_load_acquire(&s->seq);

		if (seq < 2)
			return NULL;
		load_words(have, s->key_id, ID_WORDS);
		if (memcmp(have, id, PG_KEYTAB_ID_LEN) == 0)
			return s;
	}
	return NULL;
}

static void copy_payload(const struct pg_keytab_slot *cs, struct pg_keytab_entry *out)
{
	struct pg_keytab_slot *s = (struct pg_keytab_slot *)cs; /* C11 loads take non-const */

	load_words(out->key_id, s->key_id, ID_WORDS);
	load_words(out->pubkey, s->pubkey, KEY_WORDS);
	out->not_before_us = pg_load_relaxed(&s->not_before_us);
	out->not_after_us = pg_load_relaxed(&s->not_after_us);
	out->generation = pg_load_relaxed(&s->generation);
	out->role = pg_load_relaxed(&s->role);
	out->revoked = pg_load_relaxed(&s->revoked) != 0;
}

/* Copies slot s whole, or gives PG_E_KEYTAB_BUSY after PG_KEYTAB_READ_TRIES torn tries. */
static int read_slot(const struct pg_keytab_slot *cs, struct pg_keytab_entry *out)
{
	struct pg_keytab_slot *s = (struct pg_keytab_slot *)cs;

	for (int tries = 0; tries < PG_KEYTAB_READ_TRIES; tries++) {
		/* Acquire: pairs with write_end's release: the copy sees that write's payload. */
		uint64_t seq0 = pg_load_acquire(&s->seq);

		if (seq0 & 1) {
			pg_cpu_relax();
			continue;
		}
		copy_payload(s, out);
		/* Acquire fence: if the copy saw a later write's store, we see its odd seq. */
		pg_fence_acquire();
		if (pg_load_relaxed(&s->seq) == seq0)
			return 0;
		pg_cpu_relax();
	}
	return PG_E_KEYTAB_BUSY;
}

/* Opens a write of slot s; returns the odd seq that write_end closes. */
static uint64_t write_begin(struct pg_keytab_slot *s)
{
	/* Relaxed: only this thread stores seq, and its own stores are in order for it. */
	uint64_t seq = pg_load_relaxed(&s->seq);

	PG_ASSERT((seq & 1) == 0);
	/* Release: a reader seeing the odd seq also sees the key id written at publish. */
	pg_store_release(&s->seq, seq + 1);
	/* Release fence: the odd seq is seen before any payload store below (Boehm 2012). */
	pg_fence_release();
	return seq + 1;
}

static void write_end(struct pg_keytab *kt, struct pg_keytab_slot *s, uint64_t odd)
{
	uint64_t gen = pg_load_relaxed(&kt->hdr->generation);

	/* Release: a reader seeing the even seq sees every payload store of this write. */
	pg_store_release(&s->seq, odd + 1);
	/* Release: a reader seeing the new table generation sees this slot's write. */
	pg_store_release(&kt->hdr->generation, gen + 1);
}

/* Starts a writer call: only the creating process, one thread at a time. */
static int writer_enter(struct pg_keytab *kt)
{
	int idle = 0;
	bool alone;

	if (!kt->writer || getpid() != kt->writer_pid)
		return PG_E_KEYTAB_NOT_WRITER;
	/* Acq_rel: the previous writer thread's slot stores happen before this call's. */
	alone = pg_cas(&kt->writing, &idle, 1);
	PG_ASSERT(alone); /* two threads writing at once: the caller broke the contract */
	return 0;
}

static void writer_leave(struct pg_keytab *kt)
{
	/* Release: this call's stores happen before the next writer_enter's. */
	pg_store_release(&kt->writing, 0);
}

/* The reader's rules for trusting a segment (WHO IS TRUSTED); 0 or the PG_E_KEYTAB_* broken. */
static int check_trust(const struct stat *st, uid_t owner)
{
	if (st->st_uid != owner)
		return PG_E_KEYTAB_OWNER;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return PG_E_KEYTAB_MODE;
	return 0;
}

/*
 * Why create found its name taken: PG_E_KEYTAB_OWNER if another user owns it, else
 * PG_E_KEYTAB_EXISTS (also when it cannot be opened to tell: it is refused either way).
 * Opened read-only and non-blocking, for fstat only: nothing is read, written or removed.
 */
static int name_taken(const char *name)
{
	int fd = shm_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	int err = PG_E_KEYTAB_EXISTS;
	struct stat st;

	if (fd < 0)
		return err;
	if (fstat(fd, &st) == 0 && st.st_uid != geteuid())
		err = PG_E_KEYTAB_OWNER;
	close(fd);
	return err;
}

/* Opens a new segment: the name, only if nobody has it (O_EXCL), or a memfd. fd or -error. */
static int open_new_segment(const char *name)
{
	int fd, err;

	if (name) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, SEGMENT_MODE);
		if (fd < 0)
			return errno == EEXIST ? name_taken(name) : -errno;
		return fd;
	}
	fd = memfd_create("pg-keytab", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* A memfd starts at 0777, which attach_fd would refuse as writable by anyone. Sealed, it
	 * can grow (create's ftruncate) but never shrink under a reader's mapping (SIGBUS). */
	if (fchmod(fd, SEGMENT_MODE) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pg_keytab_create(const char *name, uint32_t nslots, struct pg_keytab **out)
{
	size_t len = segment_len(nslots);
	struct pg_keytab_hdr *hdr;
	struct pg_keytab *kt;
	uint64_t seed;
	int err;

	*out = NULL;
	if (!valid_nslots(nslots) || (name && !valid_name(name)))
		return -EINVAL;
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return -EIO;
	kt = calloc(1, sizeof(*kt));
	if (!kt)
		return -ENOMEM;
	if (name) {
		kt->name = strdup(name);
		if (!kt->name) {
			err = -ENOMEM;
			goto err_free_handle;
		}
	}
	kt->fd = open_new_segment(name);
	if (kt->fd < 0) {
		err = kt->fd;
		goto err_free_handle; /* not ours: a taken name is left as it is */
	}
	if (ftruncate(kt->fd, (off_t)len) != 0) {
		err = -errno;
		goto err_remove_segment;
	}
	kt->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, kt->fd, 0);
	if (kt->map == MAP_FAILED) {
		err = -errno;
		goto err_remove_segment;
	}
	kt->map_len = len;
	kt->hdr = kt->map;
	kt->slots = (struct pg_keytab_slot *)((char *)kt->map + sizeof(*hdr));
	kt->mask = nslots - 1;
	kt->capacity = nslots / 4 * 3;
	kt->seed = seed;
	kt->writer = true;
	kt->writer_pid = getpid();

	/* ftruncate gave zeroes: every slot unused, counters 0, reserved fields 0. */
	hdr = kt->hdr;
	hdr->layout = PG_KEYTAB_LAYOUT;
	hdr->size = len;
	hdr->nslots = nslots;
	hdr->slot_size = sizeof(struct pg_keytab_slot);
	hdr->slots_off = sizeof(*hdr);
	hdr->capacity = kt->capacity;
	hdr->hash_seed = seed;
	hdr->writer_pid = kt->writer_pid;
	/* Release: a reader that sees the magic (acquire, in attach) sees the header above. */
	pg_store_release(&hdr->magic, PG_KEYTAB_MAGIC);
	*out = kt;
	return 0;

err_remove_segment:
	close(kt->fd);
	if (name)
		shm_unlink(name);
err_free_handle:
	free(kt->name);
	free(kt);
	return err;
}

void pg_keytab_destroy(struct pg_keytab *kt)
{
	if (!kt)
		return;
	PG_ASSERT(kt->writer);
	munmap(kt->map, kt->map_len);
	close(kt->fd);
	/* A forked child that inherited the handle must not remove its parent's segment. */
	if (kt->name && getpid() == kt->writer_pid)
		shm_unlink(kt->name);
	free(kt->name);
	free(kt);
}

int pg_keytab_unlink(const char *name)
{
	if (!valid_name(name))
		return -EINVAL;
	return shm_unlink(name) == 0 ? 0 : -errno;
}

int pg_keytab_fd(const struct pg_keytab *kt)
{
	PG_ASSERT(kt->writer);
	return kt->fd;
}

int pg_keytab_publish(struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN],
		      const uint8_t pubkey[PG_KEYTAB_PUBKEY_LEN], enum pg_keytab_role role,
		      uint64_t not_before_us, uint64_t not_after_us)
{
	struct pg_keytab_slot *s;
	uint32_t count, h, dist;
	uint64_t odd;
	int err;

	if ((unsigned)role > PG_KEYTAB_ROLE_MAX || not_before_us > not_after_us)
		return -EINVAL;
	/* before the writer lock: a subgroup check is a scalar multiplication, tens of µs */
	if (!pg_ed25519_key_ok(pubkey))
		return PG_E_KEYTAB_BAD_KEY;
	err = writer_enter(kt);
	if (err)
		return err;
	if (find(kt, key_id)) {
		err = PG_E_KEYTAB_DUPLICATE;
		goto out_leave;
	}
	count = pg_load_relaxed(&kt->hdr->count);
	if (count >= kt->capacity) {
		err = PG_E_KEYTAB_FULL;
		goto out_leave;
	}
	/* count < capacity < nslots: an unused slot lies within nslots probes. */
	h = home_slot(kt, key_id);
	for (dist = 0;; dist++) {
		PG_ASSERT(dist <= kt->mask);
		s = &kt->slots[(h + dist) & kt->mask];
		if (pg_load_relaxed(&s->seq) == 0)
			break;
	}
	/* Relaxed: the release stores of seq and generation below publish it with the key. */
	if (dist > pg_load_relaxed(&kt->hdr->max_probe))
		pg_store_relaxed(&kt->hdr->max_probe, dist);

	odd = write_begin(s);
	store_words(s->key_id, key_id, ID_WORDS);
	store_words(s->pubkey, pubkey, KEY_WORDS);
	pg_store_relaxed(&s->not_before_us, not_before_us);
	pg_store_relaxed(&s->not_after_us, not_after_us);
	pg_store_relaxed(&s->role, (uint8_t)role);
	pg_store_relaxed(&s->revoked, 0);
	pg_store_relaxed(&s->generation, 1);
	write_end(kt, s, odd);
	/* Relaxed: a statistic for readers, not a publication. */
	pg_store_relaxed(&kt->hdr->count, count + 1);
out_leave:
	writer_leave(kt);
	return err;
}

int pg_keytab_update(struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN],
		     uint64_t not_before_us, uint64_t not_after_us)
{
	struct pg_keytab_slot *s;
	uint64_t odd;
	int err;

	if (not_before_us > not_after_us)
		return -EINVAL;
	err = writer_enter(kt);
	if (err)
		return err;
	s = find(kt, key_id);
	if (!s) {
		err = PG_E_KEYTAB_NO_KEY;
		goto out_leave;
	}
	/* Relaxed loads of our own stores: only this thread writes the slot. */
	if (pg_load_relaxed(&s->revoked)) {
		err = PG_E_KEYTAB_REVOKED;
		goto out_leave;
	}
	odd = write_begin(s);
	pg_store_relaxed(&s->not_before_us, not_before_us);
	pg_store_relaxed(&s->not_after_us, not_after_us);
	pg_store_relaxed(&s->generation, pg_load_relaxed(&s->generation) + 1);
	write_end(kt, s, odd);
out_leave:
	writer_leave(kt);
	return err;
}

int pg_keytab_revoke(struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN])
{
	struct pg_keytab_slot *s;
	uint64_t odd;
	int err;

	err = writer_enter(kt);
	if (err)
		return err;
	s = find(kt, key_id);
	if (!s) {
		err = PG_E_KEYTAB_NO_KEY;
		goto out_leave;
	}
	if (pg_load_relaxed(&s->revoked))
		goto out_leave; /* revoked already: nothing changes, generation stays */
	odd = write_begin(s);
	pg_store_relaxed(&s->revoked, 1);
	pg_store_relaxed(&s->generation, pg_load_relaxed(&s->generation) + 1);
	write_end(kt, s, odd);
out_leave:
	writer_leave(kt);
	return err;
}

/* Checks a mapped header against the mapping's length; 0 or the specific PG_E_KEYTAB_*. */
static int check_header(struct pg_keytab_hdr *hdr, size_t len)
{
	/* Acquire: pairs with create's release, so the fields below are the final ones. */
	if (pg_load_acquire(&hdr->magic) != PG_KEYTAB_MAGIC)
		return PG_E_KEYTAB_MAGIC;
	if (hdr->layout != PG_KEYTAB_LAYOUT)
		return PG_E_KEYTAB_LAYOUT;
	if (hdr->size != len || !valid_nslots(hdr->nslots) ||
	    hdr->slot_size != sizeof(struct pg_keytab_slot) || hdr->slots_off != sizeof(*hdr) ||
	    hdr->capacity != hdr->nslots / 4 * 3 || segment_len(hdr->nslots) != len)
		return PG_E_KEYTAB_SIZE;
	return 0;
}

int pg_keytab_attach_fd_owned(int fd, uid_t owner, struct pg_keytab **out)
{
	struct pg_keytab *kt;
	struct stat st;
	size_t len;
	int err;

	*out = NULL;
	/* The descriptor we map, not the name: what is checked is what gets mapped. */
	if (fstat(fd, &st) != 0)
		return -errno;
	err = check_trust(&st, owner);
	if (err)
		return err;
	/* Sized by this fstat: a short segment is refused, never mapped and faulted on (SIGBUS). */
	if (st.st_size < (off_t)sizeof(struct pg_keytab_hdr))
		return PG_E_KEYTAB_TOO_SMALL;
	if (st.st_size > (off_t)segment_len(PG_KEYTAB_MAX_SLOTS))
		return PG_E_KEYTAB_SIZE;
	len = (size_t)st.st_size;
	kt = calloc(1, sizeof(*kt));
	if (!kt)
		return -ENOMEM;
	kt->map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (kt->map == MAP_FAILED) {
		err = -errno;
		goto err_free_handle;
	}
	kt->map_len = len;
	kt->hdr = kt->map;
	err = check_header(kt->hdr, len);
	if (err)
		goto err_unmap;
	kt->slots = (struct pg_keytab_slot *)((char *)kt->map + sizeof(*kt->hdr));
	kt->mask = kt->hdr->nslots - 1;
	kt->capacity = kt->hdr->capacity;
	kt->seed = kt->hdr->hash_seed;
	kt->fd = -1;
	*out = kt;
	return 0;

err_unmap:
	munmap(kt->map, len);
err_free_handle:
	free(kt);
	return err;
}

int pg_keytab_attach_fd(int fd, struct pg_keytab **out)
{
	return pg_keytab_attach_fd_owned(fd, geteuid(), out);
}

int pg_keytab_attach_owned(const char *name, uid_t owner, struct pg_keytab **out)
{
	int fd, err;

	*out = NULL;
	if (!valid_name(name))
		return -EINVAL;
	/* O_NONBLOCK: a FIFO planted under the name must not hang us before fstat refuses it. */
	fd = shm_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = pg_keytab_attach_fd_owned(fd, owner, out);
	close(fd); /* the mapping stays */
	return err;
}

int pg_keytab_attach(const char *name, struct pg_keytab **out)
{
	return pg_keytab_attach_owned(name, geteuid(), out);
}

void pg_keytab_detach(struct pg_keytab *kt)
{
	if (!kt)
		return;
	PG_ASSERT(!kt->writer);
	munmap(kt->map, kt->map_len);
	free(kt);
}

int pg_keytab_lookup(const struct pg_keytab *kt, const uint8_t key_id[PG_KEYTAB_ID_LEN],
		     struct pg_keytab_entry *out)
{
	const struct pg_keytab_slot *s = find(kt, key_id);
	int err;

	if (!s)
		return PG_E_KEYTAB_NO_KEY;
	err = read_slot(s, out);
	/* Checked on this side of the boundary too: the copy is of the key asked for. */
	PG_ASSERT(err || memcmp(out->key_id, key_id, PG_KEYTAB_ID_LEN) == 0);
	return err;
}

uint64_t pg_keytab_generation(const struct pg_keytab *kt)
{
	/* Acquire: pairs with write_end, so later lookups see every write counted here. */
	return pg_load_acquire(&kt->hdr->generation);
}

uint32_t pg_keytab_count(const struct pg_keytab *kt)
{
	/* Relaxed: a statistic. */
	return pg_load_relaxed(&kt->hdr->count);
}

uint32_t pg_keytab_capacity(const struct pg_keytab *kt)
{
	return kt->capacity;
}

bool pg_keytab_entry_covers(const struct pg_keytab_entry *e, uint64_t from_us, uint64_t to_us)
{
	return !e->revoked && from_us <= to_us && e->not_before_us <= from_us &&
	       to_us <= e->not_after_us;
}
