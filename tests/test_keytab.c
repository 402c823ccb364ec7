/*
 * test_keytab.c - the key table: its semantics, its header checks, and no torn read ever.
 *
 * A numbered table of writer and reader operations with the state each must leave; the table
 * full bound; creation arguments and the single-writer rule; a numbered table of damaged
 * headers, each refused with its own error and nothing left mapped or open; trust: a segment
 * of another user, one that group or others may write, a short one, a FIFO under its name are
 * refused, and create never takes over a name that exists (keytab.c, "WHO IS TRUSTED"). Then
 * the seqlock under load: keytab_child.c runs a writer at full speed against checking readers,
 * as processes and as threads, and these tests check its exit status and every party's report
 * (that program is separate so that it can also run under TSan, where Criterion cannot start).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keytab.h"
#include "keytab_keys.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"

enum {
	MAX_KEYS = 1024 + 256,
	MAX_PARTIES = 8,
	SEG64_LEN = 128 + 64 * 128, /* bytes of a 64-slot segment */
};

/* Key ids of keys 0..MAX_KEYS (make_id, keytab_keys.h). */
static uint8_t ids[MAX_KEYS][PG_KEYTAB_ID_LEN];

/* ------------------------------------------------------------------------------------------ */
/* Clean-up that runs even when an assertion ends the test: names, children, mappings. */

static char seg_name[64];
static pid_t child; /* a forked or exec'd child not yet reaped */

static void new_name(void)
{
	static int serial;

	snprintf(seg_name, sizeof(seg_name), "/pg-keytab-test-%d-%d", (int)getpid(), serial++);
}

static void cleanup(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = 0;
	}
	if (seg_name[0])
		pg_keytab_unlink(seg_name);
}

/* Mappings of our segment in this process (the name as /proc/self/maps shows it). */
static int mappings_of(const char *name)
{
	char line[512], path[128];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	snprintf(path, sizeof(path), "/dev/shm%s", name);
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *at = strstr(line, path);

		/* the whole name: "-1" must not match "-10" */
		n += at && (at[strlen(path)] == '\n' || at[strlen(path)] == ' ');
	}
	fclose(f);
	return n;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Semantics: one numbered row per operation, each with the state it must leave. */

enum op { PUB, UPD, REV, GET };

struct op_row {
	int no;
	const char *what;
	enum op op;
	uint32_t key;
	int role;
	uint64_t nb, na;
	int want;
	/* after the row: the table generation, and for GET the copy's generation and revoked */
	uint64_t table_gen;
	uint64_t gen;
	bool revoked;
};

static const struct op_row op_rows[] = {
	{ 1, "lookup in an empty table", GET, 1, 0, 0, 0, PG_E_KEYTAB_NO_KEY, 0, 0, 0 },
	{ 2, "publish a member key", PUB, 1, 1, 100, 200, 0, 1, 0, 0 },
	{ 3, "lookup finds it at generation 1", GET, 1, 1, 100, 200, 0, 1, 1, false },
	{ 4, "publish the same key id again", PUB, 1, 1, 100, 200, PG_E_KEYTAB_DUPLICATE, 1, 0, 0 },
	{ 5, "publish with not_before > not_after", PUB, 2, 1, 300, 200, -EINVAL, 1, 0, 0 },
	{ 6, "publish with an unknown role", PUB, 2, 9, 100, 200, -EINVAL, 1, 0, 0 },
	{ 7, "a refused publish leaves nothing", GET, 2, 0, 0, 0, PG_E_KEYTAB_NO_KEY, 1, 0, 0 },
	{ 8, "renew: new window", UPD, 1, 0, 150, 300, 0, 2, 0, 0 },
	{ 9, "lookup sees the window at generation 2", GET, 1, 1, 150, 300, 0, 2, 2, false },
	{ 10, "renew an absent key", UPD, 2, 0, 150, 300, PG_E_KEYTAB_NO_KEY, 2, 0, 0 },
	{ 11, "renew with not_before > not_after", UPD, 1, 0, 301, 300, -EINVAL, 2, 0, 0 },
	{ 12, "a one-instant window is valid", UPD, 1, 0, 300, 300, 0, 3, 0, 0 },
	{ 13, "revoke", REV, 1, 0, 0, 0, 0, 4, 0, 0 },
	{ 14, "lookup: revoked, window kept", GET, 1, 1, 300, 300, 0, 4, 4, true },
	{ 15, "revoke again changes nothing", REV, 1, 0, 0, 0, 0, 4, 0, 0 },
	{ 16, "still generation 4", GET, 1, 1, 300, 300, 0, 4, 4, true },
	{ 17, "renew a revoked key", UPD, 1, 0, 1, 2, PG_E_KEYTAB_REVOKED, 4, 0, 0 },
	{ 18, "revoke an absent key", REV, 2, 0, 0, 0, PG_E_KEYTAB_NO_KEY, 4, 0, 0 },
	{ 19, "publish an admin key, no end", PUB, 2, 3, 0, PG_TIME_INFINITE, 0, 5, 0, 0 },
	{ 20, "lookup finds it", GET, 2, 3, 0, PG_TIME_INFINITE, 0, 5, 1, false },
	{ 21, "publish role none (a bare identity)", PUB, 3, 0, 5, 6, 0, 6, 0, 0 },
	{ 22, "lookup finds it", GET, 3, 0, 5, 6, 0, 6, 1, false },
	{ 23, "an unrelated absent key", GET, 4, 0, 0, 0, PG_E_KEYTAB_NO_KEY, 6, 0, 0 },
};

static void check_row(struct pg_keytab *w, struct pg_keytab *r, const struct op_row *row)
{
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	struct pg_keytab_entry e;
	int got;

	make_pubkey(row->key, pk);
	switch (row->op) {
	case PUB:
		got = pg_keytab_publish(w, ids[row->key], pk, (enum pg_keytab_role)row->role,
					row->nb, row->na);
		break;
	case UPD:
		got = pg_keytab_update(w, ids[row->key], row->nb, row->na);
		break;
	case REV:
		got = pg_keytab_revoke(w, ids[row->key]);
		break;
	default:
		/* Both handles answer alike: the writer's and a read-only attached one. */
		got = pg_keytab_lookup(w, ids[row->key], &e);
		cr_assert_eq(pg_keytab_lookup(r, ids[row->key], &e), got, "row %d (%s)", row->no,
			     row->what);
		break;
	}
	cr_assert_eq(got, row->want, "row %d (%s): got %s, want %s", row->no, row->what,
		     pg_strerror_name(got), pg_strerror_name(row->want));
	cr_assert_eq(pg_keytab_generation(r), row->table_gen, "row %d (%s): table generation",
		     row->no, row->what);
	if (row->op != GET || got != 0)
		return;
	cr_assert_eq(memcmp(e.key_id, ids[row->key], PG_KEYTAB_ID_LEN), 0, "row %d", row->no);
	cr_assert_eq(memcmp(e.pubkey, pk, PG_KEYTAB_PUBKEY_LEN), 0, "row %d", row->no);
	cr_assert_eq(e.role, row->role, "row %d", row->no);
	cr_assert_eq(e.not_before_us, row->nb, "row %d", row->no);
	cr_assert_eq(e.not_after_us, row->na, "row %d", row->no);
	cr_assert_eq(e.generation, row->gen, "row %d", row->no);
	cr_assert_eq(e.revoked, row->revoked, "row %d", row->no);
}

Test(keytab, semantics_table, .fini = cleanup)
{
	struct pg_keytab *w, *r;

	for (uint32_t n = 0; n < 8; n++)
		make_id(n, ids[n]);
	new_name();
	cr_assert_eq(pg_keytab_create(seg_name, 64, &w), 0);
	cr_assert_eq(pg_keytab_attach(seg_name, &r), 0);
	cr_assert_eq(pg_keytab_capacity(r), 48);
	for (size_t i = 0; i < PG_ARRAY_SIZE(op_rows); i++)
		check_row(w, r, &op_rows[i]);
	cr_assert_eq(pg_keytab_count(r), 3);
	pg_keytab_detach(r);
	pg_keytab_destroy(w);
	cr_assert_eq(pg_keytab_attach(seg_name, &r), -ENOENT, "destroy removes the name");
}

struct cover_row {
	int no;
	uint64_t nb, na;
	bool revoked;
	uint64_t from, to;
	bool want;
};

static const struct cover_row cover_rows[] = {
	{ 1, 100, 200, false, 100, 200, true },	 /* the whole window, ends inclusive */
	{ 2, 100, 200, false, 120, 180, true },	 /* inside */
	{ 3, 100, 200, false, 99, 150, false },	 /* starts before not_before */
	{ 4, 100, 200, false, 150, 201, false }, /* ends after not_after */
	{ 5, 100, 200, true, 120, 180, false },	 /* revoked */
	{ 6, 100, 200, false, 180, 120, false }, /* an empty interval covers nothing */
	{ 7, 0, PG_TIME_INFINITE, false, 0, PG_TIME_INFINITE, true },
};

Test(keytab, entry_covers_table)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(cover_rows); i++) {
		const struct cover_row *row = &cover_rows[i];
		struct pg_keytab_entry e = { .not_before_us = row->nb,
					     .not_after_us = row->na,
					     .revoked = row->revoked,
					     .role = PG_KEYTAB_ROLE_MEMBER };

		cr_assert_eq(pg_keytab_entry_covers(&e, row->from, row->to), row->want, "row %d",
			     row->no);
	}
}

/* Small-order, non-canonical and mixed-order public keys are refused at publication
 * (issue 12 item 2: the signatures verifiers accept for them depend on the library). */
Test(keytab, weak_public_keys_are_refused)
{
	static const char *const bad[] = {
		"0100000000000000000000000000000000000000000000000000000000000000", /* identity */
		"0000000000000000000000000000000000000000000000000000000000000080", /* order 4 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* order 2 */
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", /* order 8 */
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", /* order 8 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* y = p */
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* y = p + 1 */
		"cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d", /* mixed order
										     */
		"0200000000000000000000000000000000000000000000000000000000000000", /* not a point
										     */
	};
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	struct pg_keytab *w;
	size_t len;

	cr_assert_eq(pg_keytab_create(NULL, 64, &w), 0);
	for (size_t i = 0; i < PG_ARRAY_SIZE(bad); i++) {
		make_id((uint32_t)i, ids[i]);
		cr_assert_eq(sodium_hex2bin(pk, sizeof(pk), bad[i], 64, NULL, &len, NULL), 0);
		cr_assert_eq(pg_keytab_publish(w, ids[i], pk, PG_KEYTAB_ROLE_MEMBER, 0, 1),
			     PG_E_KEYTAB_BAD_KEY, "key %zu (%s)", i, bad[i]);
	}
	cr_assert_eq(pg_keytab_count(w), 0);
	cr_assert_eq(pg_keytab_generation(w), 0, "a refused key changes nothing");
	make_pubkey(0, pk);
	cr_assert_eq(pg_keytab_publish(w, ids[0], pk, PG_KEYTAB_ROLE_MEMBER, 0, 1), 0);
	pg_keytab_destroy(w);
}

Test(keytab, table_full)
{
	static const uint32_t sizes[] = { 8, 64, 1024 };
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	struct pg_keytab_entry e;

	make_pubkey(1, pk); /* a real key: the table refuses others */
	for (size_t i = 0; i < PG_ARRAY_SIZE(sizes); i++) {
		struct pg_keytab *w;
		uint32_t cap = sizes[i] / 4 * 3;

		cr_assert_eq(pg_keytab_create(NULL, sizes[i], &w), 0);
		cr_assert_eq(pg_keytab_capacity(w), cap);
		for (uint32_t n = 0; n < cap; n++) {
			make_id(n, ids[n]);
			cr_assert_eq(pg_keytab_publish(w, ids[n], pk, PG_KEYTAB_ROLE_MEMBER, 0, 1),
				     0, "nslots %u key %u", sizes[i], n);
		}
		make_id(cap, ids[cap]);
		cr_assert_eq(pg_keytab_publish(w, ids[cap], pk, PG_KEYTAB_ROLE_MEMBER, 0, 1),
			     PG_E_KEYTAB_FULL, "nslots %u", sizes[i]);
		cr_assert_eq(pg_keytab_generation(w), cap, "a refused publish changes nothing");
		cr_assert_eq(pg_keytab_count(w), cap);
		/* A full table still answers: every key found, absent keys end their probe. */
		for (uint32_t n = 0; n < cap; n++)
			cr_assert_eq(pg_keytab_lookup(w, ids[n], &e), 0, "key %u", n);
		for (uint32_t n = cap; n < cap + 200 && n < MAX_KEYS; n++) {
			make_id(n, ids[n]);
			cr_assert_eq(pg_keytab_lookup(w, ids[n], &e), PG_E_KEYTAB_NO_KEY);
		}
		/* Renewal and revocation need no new slot. */
		cr_assert_eq(pg_keytab_update(w, ids[0], 5, 6), 0);
		cr_assert_eq(pg_keytab_revoke(w, ids[1]), 0);
		pg_keytab_destroy(w);
	}
}

struct arg_row {
	int no;
	const char *name;
	uint32_t nslots;
	int want;
};

Test(keytab, create_arguments, .fini = cleanup)
{
	struct pg_keytab *w, *again;

	new_name();
	const struct arg_row rows[] = {
		{ 1, NULL, 0, -EINVAL },
		{ 2, NULL, 4, -EINVAL },	/* under PG_KEYTAB_MIN_SLOTS */
		{ 3, NULL, 12, -EINVAL },	/* not a power of two */
		{ 4, NULL, 1u << 21, -EINVAL }, /* over PG_KEYTAB_MAX_SLOTS */
		{ 5, "no-slash", 64, -EINVAL },
		{ 6, "/a/b", 64, -EINVAL },
		{ 7, "/", 64, -EINVAL },
		{ 8, NULL, PG_KEYTAB_MIN_SLOTS, 0 }, /* memfd */
		{ 9, seg_name, 64, 0 },
	};

	for (size_t i = 0; i < PG_ARRAY_SIZE(rows); i++) {
		int got = pg_keytab_create(rows[i].name, rows[i].nslots, &w);

		cr_assert_eq(got, rows[i].want, "row %d: got %s", rows[i].no, pg_strerror(got));
		if (got == 0 && rows[i].name == NULL)
			pg_keytab_destroy(w);
		else if (got)
			cr_assert_null(w, "row %d", rows[i].no);
	}
	/* w is row 9's: a second writer on the same name is refused. */
	cr_assert_eq(pg_keytab_create(seg_name, 64, &again), PG_E_KEYTAB_EXISTS);
	cr_assert_eq(pg_keytab_attach("/pg-keytab-test-no-such-name", &again), -ENOENT);
	cr_assert_null(again);
	pg_keytab_destroy(w);
}

Test(keytab, single_writer, .fini = cleanup)
{
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	struct pg_keytab *w, *r, *fdr;
	struct pg_keytab_entry e;
	int status;
	pid_t pid;

	make_pubkey(0, pk); /* a real key: the table refuses others */
	make_id(0, ids[0]);
	make_id(1, ids[1]);
	new_name();
	cr_assert_eq(pg_keytab_create(seg_name, 64, &w), 0);
	cr_assert_eq(pg_keytab_publish(w, ids[0], pk, PG_KEYTAB_ROLE_ADMIN, 1, 2), 0);
	cr_assert_eq(pg_keytab_attach(seg_name, &r), 0);
	/* A reader's handle cannot write. */
	cr_assert_eq(pg_keytab_publish(r, ids[1], pk, 1, 1, 2), PG_E_KEYTAB_NOT_WRITER);
	cr_assert_eq(pg_keytab_revoke(r, ids[0]), PG_E_KEYTAB_NOT_WRITER);
	/* Nor can a forked child holding the writer's handle; its exit code says what it got. */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int a = pg_keytab_publish(w, ids[1], pk, 1, 1, 2);
		int b = pg_keytab_update(w, ids[0], 1, 3);
		int c = pg_keytab_revoke(w, ids[0]);

		pg_keytab_destroy(w); /* must not unlink the parent's name */
		_exit(a == PG_E_KEYTAB_NOT_WRITER && b == a && c == a ? 0 : 1);
	}
	child = pid;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	child = 0;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	cr_assert_eq(pg_keytab_lookup(r, ids[0], &e), 0);
	cr_assert_eq(e.generation, 1);
	cr_assert_eq(pg_keytab_generation(r), 1);
	cr_assert_eq(mappings_of(seg_name), 2, "the name is still there: a reader can attach");
	/* The memfd path: attach by descriptor. */
	cr_assert_eq(pg_keytab_attach_fd(pg_keytab_fd(w), &fdr), 0);
	cr_assert_eq(pg_keytab_lookup(fdr, ids[0], &e), 0);
	pg_keytab_detach(fdr);
	pg_keytab_detach(r);
	pg_keytab_destroy(w);
}

/* ------------------------------------------------------------------------------------------ */
/* Header validation: each damage gets its own error, and nothing stays mapped or open. */

enum damage { MAGIC, LAYOUT, SIZE_FIELD, NSLOTS, SLOT_SIZE, CAPACITY, TRUNC, GROW };

struct hdr_row {
	int no;
	const char *what;
	enum damage damage;
	off_t arg;
	int want;
};

static const struct hdr_row hdr_rows[] = {
	{ 1, "magic wrong", MAGIC, 0x12345678, PG_E_KEYTAB_MAGIC },
	{ 2, "magic not written yet (creation under way)", MAGIC, 0, PG_E_KEYTAB_MAGIC },
	{ 3, "layout version of a newer build", LAYOUT, PG_KEYTAB_LAYOUT + 1, PG_E_KEYTAB_LAYOUT },
	{ 4, "layout version 0", LAYOUT, 0, PG_E_KEYTAB_LAYOUT },
	{ 5, "size field larger than the file", SIZE_FIELD, 128, PG_E_KEYTAB_SIZE },
	{ 6, "nslots not a power of two", NSLOTS, 48, PG_E_KEYTAB_SIZE },
	{ 7, "nslots larger than the file holds", NSLOTS, 128, PG_E_KEYTAB_SIZE },
	{ 8, "slot size of another layout", SLOT_SIZE, 64, PG_E_KEYTAB_SIZE },
	{ 9, "capacity above 3/4 of the slots", CAPACITY, 64, PG_E_KEYTAB_SIZE },
	{ 10, "file truncated to half", TRUNC, 128 + 64 * 128 / 2, PG_E_KEYTAB_SIZE },
	{ 11, "file truncated inside the slots", TRUNC, 129, PG_E_KEYTAB_SIZE },
	{ 12, "file exactly one header", TRUNC, 128, PG_E_KEYTAB_SIZE },
	{ 13, "file shorter than a header", TRUNC, 100, PG_E_KEYTAB_TOO_SMALL },
	{ 14, "file empty", TRUNC, 0, PG_E_KEYTAB_TOO_SMALL },
	{ 15, "file grown past its header's size", GROW, 4096, PG_E_KEYTAB_SIZE },
};

static void apply_damage(int fd, const struct hdr_row *row)
{
	uint32_t v32 = (uint32_t)row->arg;
	uint64_t v64;
	struct stat st;
	off_t off = -1;
	size_t len = 4;

	switch (row->damage) {
	case MAGIC:
		off = offsetof(struct pg_keytab_hdr, magic);
		break;
	case LAYOUT:
		off = offsetof(struct pg_keytab_hdr, layout);
		break;
	case SIZE_FIELD:
		cr_assert_eq(fstat(fd, &st), 0);
		v64 = (uint64_t)st.st_size + (uint64_t)row->arg;
		cr_assert_eq(pwrite(fd, &v64, 8, offsetof(struct pg_keytab_hdr, size)), 8);
		return;
	case NSLOTS:
		off = offsetof(struct pg_keytab_hdr, nslots);
		break;
	case SLOT_SIZE:
		off = offsetof(struct pg_keytab_hdr, slot_size);
		break;
	case CAPACITY:
		off = offsetof(struct pg_keytab_hdr, capacity);
		break;
	case TRUNC:
		cr_assert_eq(ftruncate(fd, row->arg), 0);
		return;
	case GROW:
		cr_assert_eq(fstat(fd, &st), 0);
		cr_assert_eq(ftruncate(fd, st.st_size + row->arg), 0);
		return;
	}
	cr_assert_eq(pwrite(fd, &v32, len, off), (ssize_t)len);
}

Test(keytab, header_validation, .fini = cleanup)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(hdr_rows); i++) {
		const struct hdr_row *row = &hdr_rows[i];
		struct pg_keytab *w, *r;
		int fd, maps, fds, got;

		new_name();
		cr_assert_eq(pg_keytab_create(seg_name, 64, &w), 0);
		/* A sound segment attaches, and detaching leaves nothing: the positive control. */
		maps = mappings_of(seg_name);
		fds = open_fds();
		cr_assert_eq(pg_keytab_attach(seg_name, &r), 0, "row %d: before damage", row->no);
		cr_assert_eq(mappings_of(seg_name), maps + 1);
		pg_keytab_detach(r);
		cr_assert_eq(mappings_of(seg_name), maps);

		fd = shm_open(seg_name, O_RDWR, 0);
		cr_assert_geq(fd, 0);
		apply_damage(fd, row);
		close(fd);
		got = pg_keytab_attach(seg_name, &r);
		cr_assert_eq(got, row->want, "row %d (%s): got %s, want %s", row->no, row->what,
			     pg_strerror_name(got), pg_strerror_name(row->want));
		cr_assert_null(r, "row %d", row->no);
		cr_assert_eq(mappings_of(seg_name), maps, "row %d: a mapping was left", row->no);
		cr_assert_eq(open_fds(), fds, "row %d: a descriptor was left", row->no);
		pg_keytab_destroy(w); /* unmaps without touching the (maybe truncated) pages */
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Trust: a segment is trusted by its owner and mode, never by its name. */

/*
 * Gives the segment to another user, as if that user had created the name first. Returns the
 * uid, or -1 if this process may not (it needs root or CAP_CHOWN; CI runs as root).
 */
static uid_t give_away(int fd)
{
	uid_t other = geteuid() == 65534 ? 65533 : 65534; /* "nobody", or its neighbour */

	if (fchown(fd, other, (gid_t)-1) == 0)
		return other;
	cr_log_warn("cannot give a segment to uid %d (%s): needs root or CAP_CHOWN", (int)other,
		    strerror(errno));
	return (uid_t)-1;
}

/* For a test that is about another user's segment: give it away, or skip the whole test. */
static uid_t give_away_or_skip(int fd)
{
	uid_t other = give_away(fd);

	if (other == (uid_t)-1) {
		close(fd);
		cleanup();
		cr_skip_test("needs root or CAP_CHOWN to make a segment of another user");
	}
	return other;
}

/* A new 64-slot segment under a new name; returns a read-write descriptor to change it by. */
static int new_segment(struct pg_keytab **w)
{
	int fd;

	new_name();
	cr_assert_eq(pg_keytab_create(seg_name, 64, w), 0);
	fd = shm_open(seg_name, O_RDWR, 0);
	cr_assert_geq(fd, 0);
	return fd;
}

/* Both attach paths refuse the segment with want, and leave no mapping or descriptor. */
static void expect_refused(int fd, int want, const char *what)
{
	int maps = mappings_of(seg_name), fds = open_fds(), got;
	struct pg_keytab *r;

	got = pg_keytab_attach(seg_name, &r);
	cr_assert_eq(got, want, "%s, by name: got %s, want %s", what, pg_strerror_name(got),
		     pg_strerror_name(want));
	cr_assert_null(r, "%s", what);
	got = pg_keytab_attach_fd(fd, &r);
	cr_assert_eq(got, want, "%s, by fd: got %s, want %s", what, pg_strerror_name(got),
		     pg_strerror_name(want));
	cr_assert_null(r, "%s", what);
	cr_assert_eq(mappings_of(seg_name), maps, "%s: a mapping was left", what);
	cr_assert_eq(open_fds(), fds, "%s: a descriptor was left", what);
}

Test(keytab, segment_of_another_user_refused, .fini = cleanup)
{
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	struct pg_keytab *w, *r;
	struct pg_keytab_entry e;
	uid_t other;
	int fd;

	make_pubkey(7, pk); /* a real key: the table refuses others */
	/* A sound key table in every other respect: only its owner is wrong. */
	make_id(0, ids[0]);
	fd = new_segment(&w);
	cr_assert_eq(pg_keytab_publish(w, ids[0], pk, PG_KEYTAB_ROLE_ADMIN, 0, 1), 0);
	other = give_away_or_skip(fd);
	expect_refused(fd, PG_E_KEYTAB_OWNER, "owned by another uid");
	cr_assert_eq(pg_keytab_attach_owned(seg_name, geteuid(), &r), PG_E_KEYTAB_OWNER);
	cr_assert_eq(pg_keytab_attach_fd_owned(fd, geteuid(), &r), PG_E_KEYTAB_OWNER);
	/* A reader told which user the writer runs as accepts that user's segment. */
	cr_assert_eq(pg_keytab_attach_owned(seg_name, other, &r), 0);
	cr_assert_eq(pg_keytab_lookup(r, ids[0], &e), 0);
	pg_keytab_detach(r);
	cr_assert_eq(pg_keytab_attach_fd_owned(fd, other, &r), 0);
	pg_keytab_detach(r);
	close(fd);
	pg_keytab_destroy(w);
}

struct mode_row {
	int no;
	mode_t mode;
	int want;
};

static const struct mode_row mode_rows[] = {
	{ 1, 0640, 0 }, /* what create makes */
	{ 2, 0600, 0 },
	{ 3, 0644, 0 }, /* readable by all: public keys, not secrets */
	{ 4, 0400, 0 },
	{ 5, 0660, PG_E_KEYTAB_MODE }, /* group may write */
	{ 6, 0620, PG_E_KEYTAB_MODE },
	{ 7, 0602, PG_E_KEYTAB_MODE }, /* others may write */
	{ 8, 0646, PG_E_KEYTAB_MODE },
	{ 9, 0666, PG_E_KEYTAB_MODE },
	{ 10, 0777, PG_E_KEYTAB_MODE }, /* a memfd's mode when nobody changed it */
};

Test(keytab, segment_writable_by_others_refused, .fini = cleanup)
{
	struct pg_keytab *w, *r;
	int fd = new_segment(&w);

	for (size_t i = 0; i < PG_ARRAY_SIZE(mode_rows); i++) {
		const struct mode_row *row = &mode_rows[i];
		char what[32];

		snprintf(what, sizeof(what), "row %d (mode %03o)", row->no, (unsigned)row->mode);
		cr_assert_eq(fchmod(fd, row->mode), 0, "%s", what);
		if (row->want) {
			expect_refused(fd, row->want, what);
			continue;
		}
		cr_assert_eq(pg_keytab_attach(seg_name, &r), 0, "%s, by name", what);
		pg_keytab_detach(r);
		cr_assert_eq(pg_keytab_attach_fd(fd, &r), 0, "%s, by fd", what);
		pg_keytab_detach(r);
	}
	close(fd);
	pg_keytab_destroy(w);
}

struct trunc_row {
	int no;
	off_t len;
	int want;
};

/* Shorter and shorter, so that each row cuts the one segment the rows before left intact. */
static const struct trunc_row trunc_rows[] = {
	{ 1, SEG64_LEN - 1, PG_E_KEYTAB_SIZE },	  /* one byte short */
	{ 2, SEG64_LEN - 128, PG_E_KEYTAB_SIZE }, /* one slot short */
	{ 3, 128, PG_E_KEYTAB_SIZE },		  /* the header, no slots */
	{ 4, 64, PG_E_KEYTAB_TOO_SMALL },	  /* half a header */
	{ 5, 0, PG_E_KEYTAB_TOO_SMALL },
};

Test(keytab, truncated_segment_refused_not_faulted_on, .fini = cleanup)
{
	struct pg_keytab *w;
	int fd = new_segment(&w);

	/* The size comes from fstat of the mapped descriptor: every short file is refused before
	 * a load could touch a missing page (a SIGBUS would end this test as a crash). */
	for (size_t i = 0; i < PG_ARRAY_SIZE(trunc_rows); i++) {
		char what[32];

		snprintf(what, sizeof(what), "row %d (%lld bytes)", trunc_rows[i].no,
			 (long long)trunc_rows[i].len);
		cr_assert_eq(ftruncate(fd, trunc_rows[i].len), 0);
		expect_refused(fd, trunc_rows[i].want, what);
	}
	/* Trust comes first: a short segment of another user is refused for its owner. */
	if (give_away(fd) != (uid_t)-1)
		expect_refused(fd, PG_E_KEYTAB_OWNER, "short and foreign");
	close(fd);
	pg_keytab_destroy(w);
}

Test(keytab, fifo_under_the_name_does_not_hang_attach, .fini = cleanup, .timeout = 20)
{
	char path[128];
	struct pg_keytab *r;
	int fd;

	/* A FIFO that another user planted under the name: a blocking open would wait for a
	 * writer that never comes. Ours here (so that owner and mode pass): it has no size. */
	new_name();
	snprintf(path, sizeof(path), "/dev/shm%s", seg_name);
	cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo %s: %s", path, strerror(errno));
	cr_assert_eq(pg_keytab_attach(seg_name, &r), PG_E_KEYTAB_TOO_SMALL);
	cr_assert_null(r);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(fd, 0);
	if (give_away(fd) != (uid_t)-1)
		cr_assert_eq(pg_keytab_attach(seg_name, &r), PG_E_KEYTAB_OWNER);
	close(fd);
}

/* Owned by us and writable by nobody else: what attach, by name or by fd, accepts. */
static void expect_private(int fd, const char *what)
{
	mode_t umask_now = umask(0);
	struct stat st;

	umask(umask_now);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_uid, geteuid(), "%s: owner", what);
	cr_assert_eq(st.st_mode & 0777, 0640 & ~umask_now, "%s: mode %03o", what,
		     (unsigned)(st.st_mode & 0777));
}

Test(keytab, create_makes_a_private_segment, .fini = cleanup)
{
	struct pg_keytab *w, *r;

	new_name();
	cr_assert_eq(pg_keytab_create(seg_name, 64, &w), 0);
	expect_private(pg_keytab_fd(w), "named segment");
	pg_keytab_destroy(w);
	/* A memfd starts at 0777: create must tighten it, or attach_fd refuses its own writer's. */
	cr_assert_eq(pg_keytab_create(NULL, 64, &w), 0);
	expect_private(pg_keytab_fd(w), "memfd");
	cr_assert_eq(pg_keytab_attach_fd(pg_keytab_fd(w), &r), 0);
	pg_keytab_detach(r);
	pg_keytab_destroy(w);
}

Test(keytab, memfd_segment_cannot_shrink_under_readers)
{
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	struct pg_keytab *w, *r;
	struct pg_keytab_entry e;
	int fd;

	make_pubkey(5, pk); /* a real key: the table refuses others */
	make_id(0, ids[0]);
	cr_assert_eq(pg_keytab_create(NULL, 64, &w), 0);
	cr_assert_eq(pg_keytab_publish(w, ids[0], pk, PG_KEYTAB_ROLE_MEMBER, 0, 1), 0);
	fd = pg_keytab_fd(w);
	cr_assert_eq(pg_keytab_attach_fd(fd, &r), 0);
	cr_assert_eq(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_SEAL);
	/* Not even the writer's own descriptor can cut the pages from under the reader (had it
	 * worked, the lookup below would die of SIGBUS); growing stays allowed. */
	errno = 0;
	cr_assert_eq(ftruncate(fd, 128), -1, "a memfd segment was shrunk");
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1, "a seal was added after create");
	cr_assert_eq(pg_keytab_lookup(r, ids[0], &e), 0);
	pg_keytab_detach(r);
	pg_keytab_destroy(w);
}

/* The segment's bytes, to show that a refused create did not touch them. */
static void snapshot(int fd, struct stat *st, uint8_t *buf, size_t len)
{
	cr_assert_eq(fstat(fd, st), 0);
	cr_assert_eq(pread(fd, buf, len, 0), (ssize_t)len);
}

static void expect_untouched(int fd, const struct stat *st0, const uint8_t *buf0, size_t len)
{
	static uint8_t buf[SEG64_LEN];
	struct stat st;

	PG_ASSERT(len <= sizeof(buf));
	snapshot(fd, &st, buf, len);
	cr_assert(st.st_ino == st0->st_ino && st.st_uid == st0->st_uid &&
		      st.st_mode == st0->st_mode && st.st_size == st0->st_size,
		  "a refused create changed the segment's inode, owner, mode or size");
	cr_assert_eq(memcmp(buf, buf0, len), 0, "a refused create changed the segment's bytes");
}

Test(keytab, create_refuses_a_name_of_ours, .fini = cleanup)
{
	static uint8_t before[SEG64_LEN];
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	struct pg_keytab *w, *again, *r;
	struct pg_keytab_entry e;
	struct stat st;
	int fd, status;

	make_pubkey(3, pk); /* a real key: the table refuses others */
	/* A live writer's segment: a second create gets PG_E_KEYTAB_EXISTS and changes nothing. */
	make_id(0, ids[0]);
	new_name();
	cr_assert_eq(pg_keytab_create(seg_name, 64, &w), 0);
	cr_assert_eq(pg_keytab_publish(w, ids[0], pk, PG_KEYTAB_ROLE_MEMBER, 0, 1), 0);
	fd = shm_open(seg_name, O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	snapshot(fd, &st, before, SEG64_LEN);
	cr_assert_eq(pg_keytab_create(seg_name, 64, &again), PG_E_KEYTAB_EXISTS);
	cr_assert_null(again);
	expect_untouched(fd, &st, before, SEG64_LEN);
	cr_assert_eq(pg_keytab_attach(seg_name, &r), 0, "the live segment keeps its name");
	cr_assert_eq(pg_keytab_lookup(r, ids[0], &e), 0);
	pg_keytab_detach(r);
	close(fd);
	pg_keytab_destroy(w);

	/* A dead writer's segment (it exited without destroy): refused all the same, until the
	 * caller, who alone knows that its writer is dead, removes it. */
	new_name();
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(pg_keytab_create(seg_name, 64, &w) == 0 ? 0 : 1);
	cr_assert_eq(waitpid(child, &status, 0), child);
	child = 0;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	fd = shm_open(seg_name, O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	snapshot(fd, &st, before, SEG64_LEN);
	cr_assert_eq(pg_keytab_create(seg_name, 64, &again), PG_E_KEYTAB_EXISTS);
	expect_untouched(fd, &st, before, SEG64_LEN);
	close(fd);
	cr_assert_eq(pg_keytab_unlink(seg_name), 0);
	cr_assert_eq(pg_keytab_create(seg_name, 64, &w), 0);
	pg_keytab_destroy(w);
}

Test(keytab, create_refuses_a_name_of_another_user, .fini = cleanup)
{
	static uint8_t before[SEG64_LEN];
	struct pg_keytab *again;
	struct stat st;
	int fd;

	/* Another user took the name first (what they put in it does not matter: it is refused
	 * by its owner, before anything reads it). */
	new_name();
	fd = shm_open(seg_name, O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, SEG64_LEN), 0);
	cr_assert_eq(pwrite(fd, "not ours", 8, 0), 8);
	give_away_or_skip(fd);
	snapshot(fd, &st, before, SEG64_LEN);
	cr_assert_eq(pg_keytab_create(seg_name, 64, &again), PG_E_KEYTAB_OWNER);
	cr_assert_null(again);
	expect_untouched(fd, &st, before, SEG64_LEN);
	close(fd);
}

/* ------------------------------------------------------------------------------------------ */
/* No torn read, under load: keytab_child.c, judged here from its report. */

struct party {
	char name[32];
	unsigned long long reads, found, absent, busy, torn, regress, final_bad, other, writes;
	int err;
};

/* Runs keytab-child (built next to this test) in one mode; returns its wait status. */
static int run_child(const char *mode, struct party *parties, int *nparties, bool *summary_ok)
{
	char exe[PATH_MAX], path[PATH_MAX + 32], line[512];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int fds[2], status;
	FILE *f;

	cr_assert_gt(len, 0);
	exe[len] = '\0';
	snprintf(path, sizeof(path), "%s/keytab-child", dirname(exe));
	cr_assert_eq(pipe(fds), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(path, "keytab-child", mode, seg_name, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	cr_assert_not_null(f);
	*nparties = 0;
	*summary_ok = false;
	while (fgets(line, sizeof(line), f)) {
		struct party *q = &parties[*nparties];

		cr_log_info("keytab-child %s: %s", mode, line);
		if (strcmp(line, "summary: ok\n") == 0)
			*summary_ok = true;
		if (*nparties < MAX_PARTIES &&
		    sscanf(line,
			   "party=%31s reads=%llu found=%llu absent=%llu busy=%llu torn=%llu "
			   "regress=%llu final_bad=%llu other=%llu writes=%llu err=%d",
			   q->name, &q->reads, &q->found, &q->absent, &q->busy, &q->torn,
			   &q->regress, &q->final_bad, &q->other, &q->writes, &q->err) == 11)
			(*nparties)++;
	}
	fclose(f);
	cr_assert_eq(waitpid(child, &status, 0), child);
	child = 0;
	return status;
}

/* The same promises keytab-child checks, checked again on this side of the boundary. */
static void judge(const char *mode, int want_parties)
{
	struct party parties[MAX_PARTIES];
	int status, n, readers = 0;
	bool summary_ok;

	new_name();
	status = run_child(mode, parties, &n, &summary_ok);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "keytab-child %s failed: status %#x (signal %d)", mode, status,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert(summary_ok, "keytab-child %s: no \"summary: ok\"", mode);
	cr_assert_eq(n, want_parties, "keytab-child %s: %d party reports", mode, n);
	for (int i = 0; i < n; i++) {
		const struct party *q = &parties[i];

		cr_assert_eq(q->err, 0, "%s: error %s", q->name, pg_strerror(q->err));
		if (strncmp(q->name, "writer", 6) == 0) {
			cr_assert_gt(q->writes, 0, "%s wrote nothing", q->name);
		} else if (strncmp(q->name, "reader", 6) == 0) {
			readers++;
			cr_assert_gt(q->found, 0, "%s found nothing", q->name);
			cr_assert_eq(q->torn, 0, "%s copied a torn slot", q->name);
			cr_assert_eq(q->regress, 0, "%s saw a generation go back", q->name);
			cr_assert_eq(q->other, 0, "%s got an unexpected error", q->name);
			cr_assert_eq(q->final_bad, 0, "%s: wrong final state", q->name);
		}
	}
	cr_assert_eq(readers, 2);
}

Test(keytab, no_torn_read_across_processes, .fini = cleanup, .timeout = 170)
{
	judge("procs", 4); /* writer, 2 readers, and the raw reader (not held to zero) */
}

Test(keytab, no_torn_read_across_threads, .fini = cleanup, .timeout = 170)
{
	judge("threads", 3);
}
