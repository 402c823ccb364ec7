/*
 * daemon_fixture.h - starting real peergraphd processes for the end-to-end tests: a fresh
 * state directory and socket per daemon, readiness through our own NOTIFY_SOCKET (as systemd
 * would see it), stderr kept in a log file, and a clean or a hard stop.
 */
#ifndef PG_DAEMON_FIXTURE_H
#define PG_DAEMON_FIXTURE_H

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
#include <unistd.h>

#include <criterion/criterion.h>

#include "peergraph.h"

struct pgd_proc {
	char dir[64]; /* the test's directory: state/, sock, log */
	char state[96];
	char sock[96];
	char log[96];
	pid_t pid;
};

static inline int pgd_rm(const char *p, const struct stat *sb, int t, struct FTW *f)
{
	(void)sb, (void)f;
	return t == FTW_DP ? rmdir(p) : unlink(p);
}

/* Makes the test's directory (once per fixture). */
static inline void pgd_dir(struct pgd_proc *d)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->dir, "/tmp/pg-daemon-XXXXXX");
	cr_assert_not_null(mkdtemp(d->dir));
	chmod(d->dir, 0755);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
}

/* Starts peergraphd on the fixture's state and socket (extra: more arguments, NULL-ended) and
 * waits for READY=1 on our notify socket (10 s). */
static inline void pgd_start_args(struct pgd_proc *d, const char *const *extra)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char notify[96], buf[256];
	int ns, logfd;

	snprintf(notify, sizeof(notify), "%s/notify", d->dir);
	unlink(notify);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify);
	ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(ns, 0);
	cr_assert_eq(bind(ns, (struct sockaddr *)&sa, sizeof(sa)), 0);
	logfd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cr_assert_geq(logfd, 0);
	d->pid = fork();
	cr_assert_geq(d->pid, 0);
	if (d->pid == 0) {
		/* a port of its own: daemons of one user bind the default port together
		 * (SO_REUSEPORT) and would share each other's datagrams */
		const char *argv[32] = {
			PEERGRAPHD_PATH, "--state-dir", d->state,
			"--socket",	 d->sock,	"--log-level",
			"debug",	 "--set",	"dataplane.address=127.0.0.1:0"
		};
		int n = 9;

		for (int i = 0; extra && extra[i] && n < 31; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		dup2(logfd, STDERR_FILENO);
		setenv("NOTIFY_SOCKET", notify, 1);
		execv(PEERGRAPHD_PATH, (char *const *)argv);
		_exit(127);
	}
	close(logfd);
	for (;;) {
		struct pollfd p = { .fd = ns, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&p, 1, 10000), 1, "peergraphd ready within 10 s (log: %s)",
			     d->log);
		n = recv(ns, buf, sizeof(buf) - 1, 0);
		cr_assert_gt(n, 0);
		buf[n] = '\0';
		if (strstr(buf, "READY=1"))
			break;
	}
	close(ns);
}

static inline void pgd_start(struct pgd_proc *d)
{
	pgd_start_args(d, NULL);
}

/* Sends sig and waits (10 s) for the daemon to exit; returns its wait status. */
static inline int pgd_stop(struct pgd_proc *d, int sig)
{
	int status = 0;

	if (d->pid <= 0)
		return 0;
	kill(d->pid, sig);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return status;
		}
		usleep(10000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	cr_assert_fail("peergraphd did not stop within 10 s of signal %d", sig);
	return status;
}

/* Stops the daemon (if running) and removes the directory. */
static inline void pgd_cleanup(struct pgd_proc *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
	if (d->dir[0] && !getenv("PG_TEST_KEEP"))
		nftw(d->dir, pgd_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct peergraph *pgd_connect(const struct pgd_proc *d)
{
	struct peergraph *pg = NULL;
	int err = peergraph_connect(d->sock, &pg);

	cr_assert_eq(err, 0, "connect %s: %s", d->sock, peergraph_strerror(err));
	return pg;
}

/* True when the daemon's log holds text. */
static inline bool pgd_log_has(const struct pgd_proc *d, const char *text)
{
	char buf[1 << 16];
	FILE *f = fopen(d->log, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* The daemon's resident memory, from /proc (kB). */
static inline long pgd_rss_kb(const struct pgd_proc *d)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#endif
