/*
 * flood_nodes.c - starting, wiring and watching the peergraphd processes of bench-flood
 * (flood_nodes.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flood_nodes.h"
#include "pg_time.h"

enum {
	PROCS_MAX = 64,	   /* processes started here alive at once */
	READY_MS = 10000,  /* a daemon's start, and a graph's links */
	STOP_POLLS = 1000, /* 10 ms each: 10 s for a process to exit */
	ATTACH_MS = 300,   /* what perf / strace get to attach before the run starts */
	LOG_LINE = 512,
};

static struct {
	char dir[FN_DIR];
	pid_t procs[PROCS_MAX];
	unsigned serial;
	bool armed;
} s;

/* ---- processes and the temporary directory ---- */

static void proc_add(pid_t pid)
{
	for (unsigned i = 0; i < PROCS_MAX; i++)
		if (s.procs[i] == 0) {
			s.procs[i] = pid;
			return;
		}
}

static void proc_forget(pid_t pid)
{
	for (unsigned i = 0; i < PROCS_MAX; i++)
		if (s.procs[i] == pid)
			s.procs[i] = 0;
}

/* Waits up to 10 s for pid after sig, then kills it; its wait status. */
static int proc_end(pid_t pid, int sig)
{
	int status = 0;

	kill(pid, sig);
	for (unsigned i = 0; i < STOP_POLLS; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			goto out;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
out:
	proc_forget(pid);
	return status;
}

static int rm_entry(const char *p, const struct stat *sb, int t, struct FTW *f)
{
	(void)sb, (void)f;
	return t == FTW_DP ? rmdir(p) : unlink(p);
}

void fn_cleanup(void)
{
	for (unsigned i = 0; i < PROCS_MAX; i++)
		if (s.procs[i] > 0) {
			kill(s.procs[i], SIGKILL);
			waitpid(s.procs[i], NULL, 0);
			s.procs[i] = 0;
		}
	if (s.dir[0] && !getenv("PG_BENCH_KEEP"))
		nftw(s.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	s.dir[0] = '\0';
}

/* SIGINT / SIGTERM / the watchdog's SIGALRM: the daemons must not outlive us. kill and waitpid are
 * async-signal-safe; the directory goes with an rm of its own (fork and execve are too). */
static void on_signal(int sig)
{
	static const char why[] = "bench-flood: the watchdog's time is up: stopping everything\n";
	pid_t rm;

	if (sig == SIGALRM)
		(void)!write(STDERR_FILENO, why, sizeof(why) - 1);
	for (unsigned i = 0; i < PROCS_MAX; i++)
		if (s.procs[i] > 0) {
			kill(s.procs[i], SIGKILL);
			waitpid(s.procs[i], NULL, 0);
		}
	if (s.dir[0] && (rm = fork()) == 0) {
		execl("/bin/rm", "rm", "-rf", s.dir, (char *)NULL);
		_exit(127);
	} else if (s.dir[0] && rm > 0) {
		waitpid(rm, NULL, 0);
	}
	_exit(128 + sig);
}

int fn_init(const char *parent)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (strlen(parent) > 20)
		return -ENAMETOOLONG;
	snprintf(s.dir, sizeof(s.dir), "%s/pg-bench-flood-XXXXXX", parent);
	if (!mkdtemp(s.dir)) {
		s.dir[0] = '\0';
		return -errno;
	}
	chmod(s.dir, 0755);
	if (!s.armed) {
		atexit(fn_cleanup);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		s.armed = true;
	}
	return 0;
}

void fn_watchdog(unsigned seconds)
{
	alarm(seconds);
}

const char *fn_dir(void)
{
	return s.dir;
}

/* ---- daemons ---- */

/* "dataplane: 1 worker, 127.0.0.1:PORT, backend uring" (main.c's node_log) -> addr, backend. */
static bool log_parse(struct fn_node *n)
{
	char line[LOG_LINE];
	bool found = false;
	FILE *f = fopen(n->log, "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "dataplane: "), *a, *b;

		if (!p || !(a = strstr(p, ", 127.0.0.1:")) || !(b = strstr(a, ", backend ")))
			continue;
		a += 2;
		snprintf(n->addr, sizeof(n->addr), "%.*s", (int)(b - a), a);
		b += strlen(", backend ");
		snprintf(n->backend, sizeof(n->backend), "%.*s", (int)strcspn(b, " \n"), b);
		found = true;
	}
	fclose(f);
	return found;
}

static void child_exec(const struct fn_node *n, const char *notify, const struct fn_node_opts *o,
		       unsigned index, int logfd)
{
	char backend[48], workers[48], recs[48], bytes[48], node_id[48], trust[FN_PATH + 16],
	    timing[48];
	const char *daemon = PEERGRAPHD_PATH;

	snprintf(backend, sizeof(backend), "dataplane.backend=%s", o->backend);
	snprintf(workers, sizeof(workers), "dataplane.workers=%u", o->workers);
	snprintf(recs, sizeof(recs), "store.max_records=%u", o->max_records);
	snprintf(bytes, sizeof(bytes), "store.max_bytes=%s", o->max_bytes);
	snprintf(node_id, sizeof(node_id), "dataplane.node_id=node%u", index);
	snprintf(trust, sizeof(trust), "daemon.trust=%s", o->trust ? o->trust : "");
	snprintf(timing, sizeof(timing), "dataplane.timing=%s", o->timing ? "true" : "false");
	dup2(logfd, STDERR_FILENO);
	setenv("NOTIFY_SOCKET", notify, 1);
	/* PG_BENCH_PEERGRAPHD: another build of the daemon, to compare two side by side */
	if (getenv("PG_BENCH_PEERGRAPHD"))
		daemon = getenv("PG_BENCH_PEERGRAPHD");
	execl(daemon, daemon, "--state-dir", n->state, "--socket", n->sock, "--log-level", "info",
	      "--set", "dataplane.address=127.0.0.1:0", "--set", backend, "--set", workers, "--set",
	      recs, "--set", bytes, "--set", node_id, "--set", trust, "--set", timing,
	      (char *)NULL);
	_exit(127);
}

/* Waits for READY=1 on ns, up to READY_MS. */
static int wait_ready(int ns, pid_t pid)
{
	uint64_t end = pg_mono_ns() + (uint64_t)READY_MS * 1000000;
	char buf[256];

	while (pg_mono_ns() < end) {
		struct pollfd p = { .fd = ns, .events = POLLIN };
		ssize_t got;

		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		if (poll(&p, 1, 100) != 1)
			continue;
		got = recv(ns, buf, sizeof(buf) - 1, 0);
		if (got > 0 && (buf[got] = '\0', strstr(buf, "READY=1")))
			return 0;
	}
	return -ETIMEDOUT;
}

int fn_node_start(struct fn_node *n, unsigned index, const struct fn_node_opts *o, char *msg,
		  size_t msglen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char notify[FN_PATH];
	int ns, logfd, err;

	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s/n%u-%u", s.dir, index, s.serial++);
	snprintf(n->state, sizeof(n->state), "%s/state", n->dir);
	snprintf(n->sock, sizeof(n->sock), "%s/sock", n->dir);
	snprintf(n->log, sizeof(n->log), "%s/log", n->dir);
	snprintf(notify, sizeof(notify), "%s/notify", n->dir);
	if (mkdir(n->dir, 0755) != 0) {
		err = -errno;
		snprintf(msg, msglen, "mkdir %s: %s", n->dir, strerror(-err));
		return err;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify);
	ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ns < 0 || bind(ns, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err = -errno;
		snprintf(msg, msglen, "notify socket %s: %s", notify, strerror(-err));
		goto err_close_ns;
	}
	logfd = open(n->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		err = -errno;
		snprintf(msg, msglen, "log %s: %s", n->log, strerror(-err));
		goto err_close_ns;
	}
	n->pid = fork();
	if (n->pid == 0)
		child_exec(n, notify, o, index, logfd);
	close(logfd);
	if (n->pid < 0) {
		err = -errno;
		snprintf(msg, msglen, "fork: %s", strerror(-err));
		goto err_close_ns;
	}
	proc_add(n->pid);
	if ((err = wait_ready(ns, n->pid)) || (err = log_parse(n) ? 0 : -EADDRNOTAVAIL)) {
		snprintf(msg, msglen, "peergraphd %u did not come up (%s): see %s", index,
			 strerror(-err), n->log);
		goto err_stop;
	}
	close(ns);
	return 0;
err_stop:
	fn_node_stop(n);
err_close_ns:
	if (ns >= 0)
		close(ns);
	return err;
}

void fn_node_stop(struct fn_node *n)
{
	if (n->pid > 0)
		proc_end(n->pid, SIGTERM);
	n->pid = 0;
}

/* ---- graphs ---- */

static int links_wait(struct peergraph **pg, unsigned n, const char *graph, const unsigned *deg,
		      char *msg, size_t msglen)
{
	uint64_t end = pg_mono_ns() + (uint64_t)READY_MS * 1000000;
	struct peergraph_graph_status st;
	int err;

	for (unsigned i = 0; i < n; i++) {
		for (;;) {
			if ((err = peergraph_graph_status(pg[i], graph, &st))) {
				snprintf(msg, msglen, "node %u: graph status: %s", i,
					 peergraph_strerror(err));
				return err;
			}
			if (st.links >= deg[i])
				break;
			if (pg_mono_ns() > end) {
				snprintf(msg, msglen, "node %u: %u of %u links after %d s", i,
					 st.links, deg[i], READY_MS / 1000);
				return -ETIMEDOUT;
			}
			usleep(2000);
		}
	}
	return 0;
}

int fn_graph_wire(struct peergraph **pg, const struct fn_node *nodes, unsigned n, const char *graph,
		  const unsigned (*edges)[2], unsigned nedges, char *msg, size_t msglen)
{
	unsigned deg[FN_NODES_MAX] = { 0 };
	int err;

	if (n > FN_NODES_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		struct peergraph_graph_props props = { .flags = PEERGRAPH_GRAPH_UNSECURED };

		if (nodes[i].identity[0])
			props = (struct peergraph_graph_props){ .identity = nodes[i].identity };
		if ((err = peergraph_graph_create(pg[i], graph, &props)) ||
		    (err = peergraph_graph_listen(pg[i], graph, true))) {
			snprintf(msg, msglen, "node %u: graph create / listen %s: %s (%s)", i,
				 graph, peergraph_strerror(err), peergraph_last_message(pg[i]));
			return err;
		}
	}
	for (unsigned e = 0; e < nedges; e++) {
		unsigned a = edges[e][0], b = edges[e][1];

		if (a >= n || b >= n || a == b)
			return -EINVAL;
		for (int tries = 0;; tries++) {
			err = peergraph_graph_connect(pg[a], graph, nodes[b].addr, NULL);
			if (err != PEERGRAPH_E_BUSY || tries == 100)
				break;
			usleep(10000);
		}
		if (err) {
			snprintf(msg, msglen, "node %u -> %u (%s): connect: %s (%s)", a, b,
				 nodes[b].addr, peergraph_strerror(err),
				 peergraph_last_message(pg[a]));
			return err;
		}
		deg[a]++;
		deg[b]++;
	}
	return links_wait(pg, n, graph, deg, msg, msglen);
}

/* Counts the "reload: trust file" lines of a daemon's log (main.c's trust_reload). */
static unsigned trust_reloads(const struct fn_node *n)
{
	char line[LOG_LINE];
	unsigned count = 0;
	FILE *f = fopen(n->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		count += strstr(line, "reload: trust file") != NULL;
	fclose(f);
	return count;
}

int fn_trust_all(struct fn_node *nodes, unsigned n, const char *trust, char *msg, size_t msglen)
{
	uint64_t end = pg_mono_ns() + (uint64_t)READY_MS * 1000000;
	unsigned before[FN_NODES_MAX];
	FILE *f = fopen(trust, "a");

	if (!f || n > FN_NODES_MAX) {
		snprintf(msg, msglen, "trust file %s: %s", trust,
			 f ? "too many nodes" : strerror(errno));
		if (f)
			fclose(f);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++)
		if (nodes[i].identity[0])
			fprintf(f, "%s/identities/%s/cert.pem\n", nodes[i].state,
				nodes[i].identity);
	if (fclose(f) != 0) {
		snprintf(msg, msglen, "trust file %s: %s", trust, strerror(errno));
		return -EIO;
	}
	for (unsigned i = 0; i < n; i++) {
		before[i] = trust_reloads(&nodes[i]);
		kill(nodes[i].pid, SIGHUP);
	}
	for (unsigned i = 0; i < n; i++)
		while (trust_reloads(&nodes[i]) == before[i]) {
			if (pg_mono_ns() > end) {
				snprintf(msg, msglen, "node %u did not re-read %s in %d s (see %s)",
					 i, trust, READY_MS / 1000, nodes[i].log);
				return -ETIMEDOUT;
			}
			usleep(10000);
		}
	return 0;
}

int64_t fn_cpu_ns(pid_t pid)
{
	struct timespec ts;
	clockid_t clk;
	int err;

	if ((err = clock_getcpuclockid(pid, &clk)))
		return -err;
	if (clock_gettime(clk, &ts) != 0)
		return -errno;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool fn_mem(pid_t pid, int64_t *rss, int64_t *minflt)
{
	char path[64], line[512], *p;
	long long kb = -1, flt = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return false;
	/* minflt is field 10; the command (field 2) may hold spaces but ends at the last ')' */
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lld", &flt);
	fclose(f);
	*rss = kb * 1024;
	*minflt = flt;
	return kb >= 0 && flt >= 0;
}

/* ---- perf stat / strace -c ---- */

const char *const fn_call_names[FN_CALLS_N] = {
#define X(name) #name,
	FN_CALLS
#undef X
};

static bool have(const char *path)
{
	return access(path, X_OK) == 0;
}

const char *fn_prof_tool(void)
{
	if (have("/usr/bin/perf"))
		return "perf stat";
	if (have("/usr/bin/strace"))
		return "strace -c -f";
	return NULL;
}

/* perf's -e list: CPU, every system call, and those of FN_CALLS the kernel can trace. */
static void perf_events(char *out, size_t len)
{
	size_t at = (size_t)snprintf(out, len, "task-clock,raw_syscalls:sys_enter");

	for (unsigned i = 0; i < FN_CALLS_N && at < len; i++) {
		char tp[FN_PATH];

		snprintf(tp, sizeof(tp), "/sys/kernel/tracing/events/syscalls/sys_enter_%s",
			 fn_call_names[i]);
		if (access(tp, F_OK) == 0)
			at += (size_t)snprintf(out + at, len - at, ",syscalls:sys_enter_%s",
					       fn_call_names[i]);
	}
}

static struct fn_thread_prof *thread_of(struct fn_prof *p, const char *comm_tid)
{
	const char *dash = strrchr(comm_tid, '-');
	pid_t tid = dash ? (pid_t)atoi(dash + 1) : 0;

	for (unsigned i = 0; i < p->n; i++)
		if (p->t[i].tid == tid)
			return &p->t[i];
	if (p->n == FN_THREADS_MAX)
		return NULL;
	p->t[p->n].tid = tid;
	snprintf(p->t[p->n].comm, sizeof(p->t[p->n].comm), "%.*s",
		 dash ? (int)(dash - comm_tid) : (int)strlen(comm_tid), comm_tid);
	return &p->t[p->n++];
}

/* Adds sign x each thread's user and system time (/proc/PID/task/TID/stat, fields 14 and 15
 * after the parenthesised name) to its entry. */
static void task_times(struct fn_prof *p, double sign)
{
	double tick_ms = 1000.0 / (double)sysconf(_SC_CLK_TCK);
	char path[FN_PATH], line[LOG_LINE], name[40];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->target);
	if (!(d = opendir(path)))
		return;
	for (unsigned n = 0; (de = readdir(d)) && n < FN_THREADS_MAX * 2; n++) {
		unsigned long ut, st;
		struct fn_thread_prof *t;
		const char *open, *close;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)p->target,
			 de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		close = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
		 * cmajflt utime stime */
		if (!close ||
		    sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			   &st) != 2)
			continue;
		open = strchr(line, '(');
		snprintf(name, sizeof(name), "%.*s-%.16s", open ? (int)(close - open - 1) : 0,
			 open ? open + 1 : "", de->d_name);
		if ((t = thread_of(p, name))) {
			t->user_ms += sign * (double)ut * tick_ms;
			t->sys_ms += sign * (double)st * tick_ms;
		}
	}
	closedir(d);
}

int fn_prof_start(struct fn_prof *p, pid_t target)
{
	char pid[16], events[1024];

	memset(p, 0, sizeof(*p));
	p->target = target;
	snprintf(pid, sizeof(pid), "%d", (int)target);
	snprintf(p->out, sizeof(p->out), "%s/prof-%d-%u", s.dir, (int)target, s.serial++);
	p->tool = have("/usr/bin/perf") ? "perf" : have("/usr/bin/strace") ? "strace" : NULL;
	if (!p->tool)
		return -ENOENT;
	perf_events(events, sizeof(events));
	p->tool_pid = fork();
	if (p->tool_pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (!strcmp(p->tool, "perf"))
			execl("/usr/bin/perf", "perf", "stat", "-x,", "--per-thread", "-e", events,
			      "-p", pid, "-o", p->out, (char *)NULL);
		else
			execl("/usr/bin/strace", "strace", "-c", "-f", "-p", pid, "-o", p->out,
			      (char *)NULL);
		_exit(127);
	}
	if (p->tool_pid < 0)
		return -errno;
	proc_add(p->tool_pid);
	usleep(ATTACH_MS * 1000);
	task_times(p, -1);
	return 0;
}

/* "comm-tid,value,unit,event,..." per thread and event (perf stat -x, --per-thread). */
static int perf_parse(struct fn_prof *p, FILE *f)
{
	char line[LOG_LINE];
	bool any = false;

	while (fgets(line, sizeof(line), f)) {
		char *name = strtok(line, ","), *val = strtok(NULL, ","), *unit, *ev;
		struct fn_thread_prof *t;

		if (!name || !val || name[0] == '#' || !(unit = strtok(NULL, ",")))
			continue;
		/* an empty unit makes strtok skip a field: the event is then in unit */
		ev = strcmp(unit, "msec") ? unit : strtok(NULL, ",");
		if (!ev || !(t = thread_of(p, name)) || val[0] == '<')
			continue;
		if (!strcmp(ev, "task-clock")) {
			t->cpu_ms = strtod(val, NULL);
		} else if (!strcmp(ev, "raw_syscalls:sys_enter")) {
			t->syscalls = strtoull(val, NULL, 10);
			p->syscalls += t->syscalls;
		} else if (!strncmp(ev, "syscalls:sys_enter_", 19)) {
			for (unsigned i = 0; i < FN_CALLS_N; i++)
				if (!strcmp(ev + 19, fn_call_names[i]))
					t->calls[i] = strtoull(val, NULL, 10);
		}
		any = true;
	}
	return any ? 0 : -EIO;
}

/* strace -c: the "total" row's calls column (the 4th number). */
static int strace_parse(struct fn_prof *p, FILE *f)
{
	char line[LOG_LINE];

	while (fgets(line, sizeof(line), f)) {
		double pct, secs;
		unsigned long usecs, calls;

		if (strstr(line, " total") &&
		    sscanf(line, "%lf %lf %lu %lu", &pct, &secs, &usecs, &calls) == 4) {
			p->syscalls = calls;
			return 0;
		}
	}
	return -EIO;
}

int fn_prof_stop(struct fn_prof *p)
{
	FILE *f;
	int err;

	if (p->tool_pid <= 0)
		return -ENOENT;
	task_times(p, 1);
	proc_end(p->tool_pid, SIGINT);
	p->tool_pid = 0;
	if (!(f = fopen(p->out, "r")))
		return -EIO;
	err = !strcmp(p->tool, "perf") ? perf_parse(p, f) : strace_parse(p, f);
	fclose(f);
	return err;
}
