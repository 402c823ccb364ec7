/*
 * keytab_child.c - the key table under load: no reader ever copies a torn slot.
 *
 * A writer publishes, renews and revokes keys at full speed, HOT keys at a time, while readers
 * look keys up (half of them among the keys being written right now) and check every copy.
 * Everything the writer stores follows from (key number, generation), so a copy that mixes two
 * writes does not check out. Two set-ups:
 *
 *   procs    the writer, two readers and a "raw" reader are processes (fork); the readers
 *            attach read-only by name and report their counts over a pipe
 *   threads  one writer thread and two reader threads share one mapping, so TSan sees every
 *            access (a cross-process race is invisible to it)
 *
 * The raw reader copies slots with no seqlock at all and reports how many torn copies it saw:
 * it shows the check has teeth. It is not held to zero.
 *
 * This is a plain program, not a Criterion test, because Criterion cannot start under TSan
 * (its BoxFort arena wants a free range that TSan reserves: Criterion issue #274). test_keytab.c
 * runs it and checks its report; meson also runs it alone, which is how TSan sees it.
 *
 * Usage: keytab-child procs|threads|all [shm-name]. Prints one line per party:
 *   party=NAME reads=N found=N absent=N busy=N torn=N regress=N final_bad=N other=N writes=N err=N
 * then "summary: ok" or "summary: FAIL ...". Exit status 0 iff the summary is ok.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "keytab.h"
#include "keytab_keys.h"
#include "pg_atomic.h"
#include "pg_error.h"
#include "pg_time.h"
#include "sanitizers.h"

enum {
	MAX_KEYS = 2048,
	HOT = 8,		     /* keys the writer works on at a time; readers aim at them */
	NPROCS = 4,		     /* writer, 2 readers, raw reader */
	NTHREADS = 3,		     /* writer, 2 readers */
	WAIT_MS = 10000,	     /* bound on every wait for another party */
	RUN_LIMIT_S = 150,	     /* the whole program, whatever happens (alarm) */
	READ_LIMIT_NS = 120000000000 /* a reader stops after 120 s even if the writer never ends */
};

/* ------------------------------------------------------------------------------------------ */
/* Deterministic keys and values: everything a slot holds follows from (key number, gen). */

struct plan {
	uint32_t nkeys;
	uint32_t nslots;
	uint32_t gen_base, gen_span; /* key n is revoked at generation revoke_gen(n) */
};

static uint8_t ids[MAX_KEYS][PG_KEYTAB_ID_LEN];

static void make_ids(const struct plan *p)
{
	for (uint32_t n = 0; n < p->nkeys; n++)
		make_id(n, ids[n]);
}

static enum pg_keytab_role role_of(uint32_t n)
{
	return (enum pg_keytab_role)(1 + n % 3);
}

/* The validity window that generation g of key n carries. */
static void window_of(uint32_t n, uint64_t g, uint64_t *nb, uint64_t *na)
{
	uint64_t x = mix64(((uint64_t)n << 32) ^ g);

	*nb = x >> 20;
	*na = *nb + 1 + (mix64(x) >> 40);
}

static uint64_t revoke_gen(const struct plan *p, uint32_t n)
{
	return p->gen_base + ((uint64_t)n * 7919) % p->gen_span;
}

/*
 * A copy of key n is consistent iff all of it belongs to one write: the writer publishes with
 * generation 1, renews to 2, 3, ... and revokes at revoke_gen(n), keeping the last window.
 */
static bool consistent(const struct plan *p, uint32_t n, const struct pg_keytab_entry *e)
{
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	uint64_t rg = revoke_gen(p, n), nb, na;

	make_pubkey(n, pk);
	if (memcmp(e->key_id, ids[n], PG_KEYTAB_ID_LEN) != 0 || memcmp(e->pubkey, pk, 32) != 0 ||
	    e->role != role_of(n) || e->generation < 1 || e->generation > rg ||
	    e->revoked != (e->generation == rg))
		return false;
	window_of(n, e->revoked ? e->generation - 1 : e->generation, &nb, &na);
	return e->not_before_us == nb && e->not_after_us == na;
}

/* Plain: ~2M writes, about a second. Sanitizers cost 2-3x (ASan) to 10x (TSan): fewer. */
static struct plan load_plan(void)
{
	if (UNDER_TSAN)
		return (
		    struct plan){ .nkeys = 512, .nslots = 1024, .gen_base = 100, .gen_span = 800 };
	if (UNDER_ASAN)
		return (
		    struct plan){ .nkeys = 2048, .nslots = 4096, .gen_base = 100, .gen_span = 800 };
	return (struct plan){ .nkeys = 2048, .nslots = 4096, .gen_base = 200, .gen_span = 1600 };
}

/* ------------------------------------------------------------------------------------------ */
/* The parties. */

/* Shared between the parties: an anonymous MAP_SHARED page (procs) or a static (threads). */
struct rendezvous {
	_Atomic uint32_t ready;	   /* the writer has created the table */
	_Atomic uint32_t attached; /* readers that attached and are about to read */
	_Atomic uint32_t done;	   /* the writer made its last write (or gave up) */
	_Atomic uint32_t hot;	   /* first key of the batch being written (a hint) */
};

struct counts {
	uint64_t reads, found, absent, busy, torn, regress, final_bad, other, writes;
	int err; /* the writer's first failure, or a party's setup failure */
};

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Waits, bounded, until *v >= want. Returns false on timeout. */
static bool wait_for(_Atomic uint32_t *v, uint32_t want)
{
	for (int i = 0; i < WAIT_MS; i++) {
		/* Acquire: what the other party did before its release store is visible after. */
		if (pg_load_acquire(v) >= want)
			return true;
		sleep_ms(1);
	}
	return false;
}

static int write_one(struct pg_keytab *kt, const struct plan *p, uint32_t n, uint64_t g)
{
	uint8_t pk[PG_KEYTAB_PUBKEY_LEN];
	uint64_t nb, na;

	if (g == 1) {
		make_pubkey(n, pk);
		window_of(n, 1, &nb, &na);
		return pg_keytab_publish(kt, ids[n], pk, role_of(n), nb, na);
	}
	if (g == revoke_gen(p, n))
		return pg_keytab_revoke(kt, ids[n]);
	window_of(n, g, &nb, &na);
	return pg_keytab_update(kt, ids[n], nb, na);
}

/* Publishes, renews and revokes every key, HOT keys at a time, as fast as it can. */
static void run_writer(struct pg_keytab *kt, const struct plan *p, struct rendezvous *rv,
		       struct counts *c)
{
	for (uint32_t b = 0; b < p->nkeys && !c->err; b += HOT) {
		uint32_t end = b + HOT < p->nkeys ? b + HOT : p->nkeys;
		uint64_t last = 1;

		/* Relaxed: only a hint for where readers aim. */
		pg_store_relaxed(&rv->hot, b);
		for (uint32_t n = b; n < end; n++)
			last = revoke_gen(p, n) > last ? revoke_gen(p, n) : last;
		for (uint64_t g = 1; g <= last && !c->err; g++) {
			for (uint32_t n = b; n < end && !c->err; n++) {
				if (g > revoke_gen(p, n))
					continue;
				c->err = write_one(kt, p, n, g);
				c->writes++;
				if (c->err)
					fprintf(stderr, "writer: key %u gen %llu: %s\n", n,
						(unsigned long long)g, pg_strerror(c->err));
			}
		}
	}
	/* Release: readers that see done see every write above (their final pass checks it). */
	pg_store_release(&rv->done, 1);
}

static uint32_t pick_key(const struct plan *p, struct rendezvous *rv, uint64_t *rng)
{
	uint64_t r;
	uint32_t n;

	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	r = *rng;
	/* Relaxed: a hint; half the reads go to the keys being written right now. */
	n = (r & 1) ? pg_load_relaxed(&rv->hot) + (uint32_t)((r >> 1) % HOT)
		    : (uint32_t)((r >> 1) % p->nkeys);
	return n < p->nkeys ? n : p->nkeys - 1;
}

/* Reads until the writer is done, checking every copy; then checks the final state. */
static void run_reader(const struct pg_keytab *kt, const struct plan *p, struct rendezvous *rv,
		       uint64_t seed, struct counts *c)
{
	uint64_t *last = calloc(p->nkeys, sizeof(*last));
	uint64_t rng = seed | 1, start = pg_mono_ns(), table_gen = 0;
	struct pg_keytab_entry e;

	if (!last) {
		c->err = -ENOMEM;
		return;
	}
	/* Acquire: once done is seen, the final pass below sees every write. */
	while (!pg_load_acquire(&rv->done)) {
		uint32_t n = pick_key(p, rv, &rng);
		int err = pg_keytab_lookup(kt, ids[n], &e);

		c->reads++;
		if (err == 0) {
			c->found++;
			c->torn += !consistent(p, n, &e);
			c->regress += e.generation < last[n];
			last[n] = e.generation;
		} else if (err == PG_E_KEYTAB_NO_KEY) {
			c->absent++;
			c->regress += last[n] != 0; /* a key once seen never goes away */
		} else if (err == PG_E_KEYTAB_BUSY) {
			c->busy++;
		} else {
			c->other++;
		}
		if ((c->reads & 63) == 0) {
			uint64_t g = pg_keytab_generation(kt);

			c->regress += g < table_gen;
			table_gen = g;
		}
		if ((c->reads & 4095) == 0 && pg_mono_ns() - start > READ_LIMIT_NS) {
			c->err = -ETIMEDOUT;
			break;
		}
	}
	for (uint32_t n = 0; n < p->nkeys && !c->err; n++) {
		bool ok = pg_keytab_lookup(kt, ids[n], &e) == 0 && consistent(p, n, &e) &&
			  e.revoked && e.generation == revoke_gen(p, n);

		c->final_bad += !ok;
	}
	free(last);
}

/* Finds key n's slot the way lookup does, with nothing but the layout in keytab.h. */
static struct pg_keytab_slot *raw_find(const struct pg_keytab_hdr *hdr,
				       struct pg_keytab_slot *slots, uint32_t n)
{
	uint32_t mask = hdr->nslots - 1;
	uint32_t h = (uint32_t)XXH3_64bits_withSeed(ids[n], PG_KEYTAB_ID_LEN, hdr->hash_seed);

	for (uint32_t d = 0; d <= mask; d++) {
		struct pg_keytab_slot *s = &slots[(h + d) & mask];
		uint64_t w0;

		/* Acquire: a used slot's key id is visible (as in keytab.c's find). */
		if (pg_load_acquire(&s->seq) == 0)
			return NULL;
		w0 = pg_load_relaxed(&s->key_id[0]);
		if (memcmp(&w0, ids[n], 8) == 0)
			return s;
	}
	return NULL;
}

/* The control: copies slots field by field, no seqlock, and counts the mixes it sees. */
static void run_raw_reader(const struct pg_keytab_hdr *hdr, const struct plan *p,
			   struct rendezvous *rv, uint64_t seed, struct counts *c)
{
	struct pg_keytab_slot *slots = (struct pg_keytab_slot *)(hdr + 1);
	uint64_t rng = seed | 1, start = pg_mono_ns();

	while (!pg_load_acquire(&rv->done) && pg_mono_ns() - start < READ_LIMIT_NS) {
		uint32_t n = pick_key(p, rv, &rng);
		struct pg_keytab_slot *s = raw_find(hdr, slots, n);
		struct pg_keytab_entry e;

		c->reads++;
		if (!s || pg_load_acquire(&s->seq) < 2) {
			c->absent++;
			continue;
		}
		c->found++;
		for (int i = 0; i < 4; i++) {
			uint64_t k = pg_load_relaxed(&s->key_id[i]),
				 q = pg_load_relaxed(&s->pubkey[i]);

			memcpy(e.key_id + 8 * i, &k, 8);
			memcpy(e.pubkey + 8 * i, &q, 8);
		}
		e.generation = pg_load_relaxed(&s->generation);
		e.not_before_us = pg_load_relaxed(&s->not_before_us);
		e.not_after_us = pg_load_relaxed(&s->not_after_us);
		e.role = pg_load_relaxed(&s->role);
		e.revoked = pg_load_relaxed(&s->revoked);
		c->torn += !consistent(p, n, &e);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Reporting and judging. */

static void report(const char *party, const struct counts *c)
{
	printf("party=%s reads=%llu found=%llu absent=%llu busy=%llu torn=%llu regress=%llu "
	       "final_bad=%llu other=%llu writes=%llu err=%d\n",
	       party, (unsigned long long)c->reads, (unsigned long long)c->found,
	       (unsigned long long)c->absent, (unsigned long long)c->busy,
	       (unsigned long long)c->torn, (unsigned long long)c->regress,
	       (unsigned long long)c->final_bad, (unsigned long long)c->other,
	       (unsigned long long)c->writes, c->err);
}

/* Returns the number of broken promises in one checked reader's counts, printing each. */
static int judge_reader(const char *party, const struct counts *c)
{
	int bad = 0;

#define EXPECT(cond, what)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s: %s\n", party, what);                                      \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)
	EXPECT(c->err == 0, "setup or time limit failed");
	EXPECT(c->found > 0, "no key was ever found: the reads did not overlap the writes");
	EXPECT(c->torn == 0, "a copy mixed two writes (torn read)");
	EXPECT(c->regress == 0, "a generation went backwards or a seen key vanished");
	EXPECT(c->other == 0, "lookup gave an unexpected error");
	EXPECT(c->final_bad == 0, "the final state is not every key revoked at its generation");
#undef EXPECT
	return bad;
}

/* ------------------------------------------------------------------------------------------ */
/* procs: one process per party. */

enum { ROLE_WRITER, ROLE_READER, ROLE_RAW };

static int child_main(int role, const char *name, const struct plan *p, struct rendezvous *rv,
		      int out_fd, uint64_t seed)
{
	struct counts c = { 0 };
	struct pg_keytab *kt;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the parent */
	if (role == ROLE_WRITER) {
		c.err = pg_keytab_create(name, p->nslots, &kt);
		if (!c.err) {
			/* Release: readers that see ready find the segment created. */
			pg_store_release(&rv->ready, 1);
			if (wait_for(&rv->attached, NPROCS - 1))
				run_writer(kt, p, rv, &c);
			else
				c.err = -ETIMEDOUT;
			pg_keytab_destroy(kt);
		}
		/* Release: readers waiting for a writer that failed stop too. */
		pg_store_release(&rv->done, 1);
	} else if (!wait_for(&rv->ready, 1)) {
		c.err = -ETIMEDOUT;
	} else if (role == ROLE_READER) {
		c.err = pg_keytab_attach(name, &kt);
		if (!c.err) {
			pg_fetch_add_relaxed(&rv->attached, 1); /* the writer waits for a count */
			run_reader(kt, p, rv, seed, &c);
			pg_keytab_detach(kt);
		}
	} else {
		int fd = shm_open(name, O_RDONLY, 0);
		struct stat st;
		void *map = MAP_FAILED;

		if (fd >= 0 && fstat(fd, &st) == 0)
			map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			c.err = -errno;
		} else {
			pg_fetch_add_relaxed(&rv->attached, 1);
			run_raw_reader(map, p, rv, seed, &c);
			munmap(map, (size_t)st.st_size);
		}
		if (fd >= 0)
			close(fd);
	}
	if (write(out_fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
		return 3;
	return c.err ? 2 : 0;
}

static int run_procs(const char *name)
{
	static const int roles[NPROCS] = { ROLE_WRITER, ROLE_READER, ROLE_READER, ROLE_RAW };
	static const char *const party[NPROCS] = { "writer", "reader1", "reader2", "raw" };
	struct plan p = load_plan();
	pid_t pids[NPROCS] = { 0 };
	struct counts c[NPROCS];
	int fds[NPROCS][2], bad = 0;
	struct rendezvous *rv;

	rv = mmap(NULL, sizeof(*rv), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rv == MAP_FAILED)
		return 1;
	make_ids(&p);
	fflush(stdout); /* children must not print the parent's buffer again */
	for (int i = 0; i < NPROCS; i++) {
		if (pipe(fds[i]) != 0 || (pids[i] = fork()) < 0) {
			printf("FAIL %s: pipe/fork: %s\n", party[i], strerror(errno));
			bad++;
			pids[i] = 0;
			break;
		}
		if (pids[i] == 0) {
			close(fds[i][0]);
			_exit(
			    child_main(roles[i], name, &p, rv, fds[i][1], 0x1234567ull * (i + 1)));
		}
		close(fds[i][1]);
	}
	if (bad) /* the children that did start time out on their own and report */
		pg_store_release(&rv->done, 1);
	for (int i = 0; i < NPROCS && pids[i] > 0; i++) {
		ssize_t n = read(fds[i][0], &c[i], sizeof(c[i]));
		int status = 0;

		close(fds[i][0]);
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("FAIL %s: exit status %#x (signal %d)\n", party[i], status,
			       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			bad++;
		}
		if (n != (ssize_t)sizeof(c[i])) {
			printf("FAIL %s: no report\n", party[i]);
			bad++;
			continue;
		}
		report(party[i], &c[i]);
		if (roles[i] == ROLE_READER)
			bad += judge_reader(party[i], &c[i]);
		else if (roles[i] == ROLE_WRITER && (c[i].err || c[i].writes == 0))
			bad++;
	}
	pg_keytab_unlink(name); /* the writer removed it, unless it died first */
	munmap(rv, sizeof(*rv));
	return bad;
}

/* ------------------------------------------------------------------------------------------ */
/* threads: one mapping, so TSan checks every access. */

struct thread_arg {
	struct pg_keytab *kt;
	const struct plan *p;
	struct rendezvous *rv;
	struct counts c;
	uint64_t seed;
};

static void *writer_thread(void *v)
{
	struct thread_arg *a = v;

	if (wait_for(&a->rv->attached, NTHREADS - 1)) {
		run_writer(a->kt, a->p, a->rv, &a->c);
	} else {
		a->c.err = -ETIMEDOUT;
		pg_store_release(&a->rv->done, 1); /* let the readers stop */
	}
	return NULL;
}

static void *reader_thread(void *v)
{
	struct thread_arg *a = v;

	pg_fetch_add_relaxed(&a->rv->attached, 1);
	run_reader(a->kt, a->p, a->rv, a->seed, &a->c);
	return NULL;
}

static int run_threads(void)
{
	static const char *const party[NTHREADS] = { "writer-thread", "reader-thread1",
						     "reader-thread2" };
	static struct rendezvous rv;
	struct thread_arg args[NTHREADS];
	pthread_t tids[NTHREADS];
	struct plan p = load_plan();
	struct pg_keytab *kt;
	int err, bad = 0, started = 0;

	make_ids(&p);
	err = pg_keytab_create(NULL, p.nslots, &kt); /* the memfd variant */
	if (err) {
		printf("FAIL create: %s\n", pg_strerror(err));
		return 1;
	}
	for (int i = 0; i < NTHREADS; i++) {
		args[i] = (struct thread_arg){
			.kt = kt, .p = &p, .rv = &rv, .seed = 0x9876543ull * (i + 1)
		};
		if (pthread_create(&tids[i], NULL, i ? reader_thread : writer_thread, &args[i])) {
			printf("FAIL %s: pthread_create\n", party[i]);
			pg_store_release(&rv.done, 1);
			bad++;
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	for (int i = 0; i < started; i++) {
		report(party[i], &args[i].c);
		if (i > 0)
			bad += judge_reader(party[i], &args[i].c);
		else if (args[i].c.err || args[i].c.writes == 0)
			bad++;
	}
	pg_keytab_destroy(kt);
	return bad;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	char name[64];
	int bad = 0;

	alarm(RUN_LIMIT_S); /* a hang ends as a failure, not as a stuck test run */
	if (argc > 2)
		snprintf(name, sizeof(name), "%s", argv[2]);
	else
		snprintf(name, sizeof(name), "/pg-keytab-child-%d", (int)getpid());
	if (strcmp(mode, "procs") && strcmp(mode, "threads") && strcmp(mode, "all")) {
		fprintf(stderr, "usage: %s procs|threads|all [shm-name]\n", argv[0]);
		return 2;
	}
	if (!strcmp(mode, "procs") || !strcmp(mode, "all"))
		bad += run_procs(name);
	if (!strcmp(mode, "threads") || !strcmp(mode, "all"))
		bad += run_threads();
	printf(bad ? "summary: FAIL (%d)\n" : "summary: ok\n", bad);
	return bad ? 1 : 0;
}
