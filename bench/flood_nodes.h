/*
 * flood_nodes.h - the real peergraphd processes bench-flood floods between, and what it reads
 * about them from outside: their CPU time and their system calls.
 *
 * A node is one peergraphd started here with a state directory and a control socket of its
 * own under the benchmark's temporary directory, its dataplane on a free port of 127.0.0.1
 * (`[dataplane] address=127.0.0.1:0`; the bound port and the backend in use are read from
 * its log, main.c's "dataplane: N workers, ADDR, backend B" line), readiness through our own
 * NOTIFY_SOCKET. Every process started here (daemons, perf, strace) is remembered until it
 * is waited for, so that fn_cleanup() -- called on every way out, and from SIGINT / SIGTERM
 * and the watchdog -- kills what is left and removes the temporary directory.
 *
 * Graphs are wired through libpeergraph only: create (unsecured) on every node, listen on
 * every node, connect each edge from its first node to its second, wait until every node has
 * as many links as edges touch it. Nothing here reaches into a daemon's memory.
 */
#ifndef PG_FLOOD_NODES_H
#define PG_FLOOD_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "peergraph.h"

enum {
	FN_NODES_MAX = 16,   /* daemons one run keeps */
	FN_THREADS_MAX = 64, /* threads of one daemon fn_prof reads */
	FN_DIR = 48,	     /* the benchmark's directory's path */
	FN_NODE_DIR = 72,    /* a node's directory's path */
	FN_PATH = 96,	     /* a file's path (<= a Unix socket's 108) */
	FN_MSG = 256,
};

struct fn_node {
	char dir[FN_NODE_DIR], state[FN_PATH], sock[FN_PATH], log[FN_PATH];
	char addr[64];	  /* its dataplane address, "127.0.0.1:PORT" */
	char backend[16]; /* the io backend it runs ("uring", "sockets") */
	/* set by the caller: graphs on this node are secured by (signed by) this identity of
	 * its own; "" for unsecured graphs */
	char identity[PEERGRAPH_PEER_NAME_SIZE];
	pid_t pid;
};

struct fn_node_opts {
	const char *backend; /* [dataplane] backend */
	unsigned workers;    /* [dataplane] workers */
	uint32_t max_records;
	const char *max_bytes; /* [store] max_bytes, e.g. "2G" */
	const char *trust;     /* [daemon] trust: the file of trusted keys; NULL: none */
	bool timing;	       /* [dataplane] timing: every stage of every record timed */
};

/* Makes the benchmark's temporary directory under parent (at most 20 bytes) and arms the cleanup
 * (atexit and SIGINT / SIGTERM / SIGALRM). 0 or -errno. */
int fn_init(const char *parent);
/* Ends the benchmark (as SIGTERM would: daemons killed, directory removed, exit status 142)
 * if it is still running after seconds: a library call that never returns is bounded too. */
void fn_watchdog(unsigned seconds);
/* The temporary directory. */
const char *fn_dir(void);
/* Kills every process started here that is still running and removes the directory. Safe to
 * call twice. */
void fn_cleanup(void);

/* Starts daemon number index (its directory is <dir>/n<index>-<serial>) and waits up to 10 s
 * for READY=1 and its dataplane address. 0, or -errno / -ETIMEDOUT with msg saying why. */
int fn_node_start(struct fn_node *n, unsigned index, const struct fn_node_opts *o, char *msg,
		  size_t msglen);
/* SIGTERM, up to 10 s for it to exit, then SIGKILL. Its directory stays until fn_cleanup. */
void fn_node_stop(struct fn_node *n);

/* Trusts the certificates of the identities in nodes[0..n) (fn_node.identity, those set):
 * appends their paths to the trust file every node was started with, sends SIGHUP and waits
 * (10 s) until each logs that it read the file again. 0, or an error with msg. */
int fn_trust_all(struct fn_node *nodes, unsigned n, const char *trust, char *msg, size_t msglen);

/* Creates graph on nodes[0..n) (secured by fn_node.identity where it is set, else
 * unsecured), has every node listen, connects edges[i][0] to
 * edges[i][1] and waits (10 s) until every node's link count is its degree. pg[i] is a
 * connection to nodes[i]. 0, or an error with msg. */
int fn_graph_wire(struct peergraph **pg, const struct fn_node *nodes, unsigned n, const char *graph,
		  const unsigned (*edges)[2], unsigned nedges, char *msg, size_t msglen);

/* CPU time (user + system, all threads) a process has used, in ns: its process CPU clock
 * (clock_getcpuclockid). -errno when it cannot be read. */
int64_t fn_cpu_ns(pid_t pid);
/* A process's resident memory (VmRSS, bytes) and minor page faults so far; false if unread. */
bool fn_mem(pid_t pid, int64_t *rss, int64_t *minflt);

/* ---- system calls and per-thread CPU, from outside: perf stat, else strace -c ---- */

/* The system calls perf counts one by one (where the kernel has their tracepoints). */
#define FN_CALLS                                                                                   \
	X(write)                                                                                   \
	X(read)                                                                                    \
	X(sendmmsg)                                                                                \
	X(recvmmsg)                                                                                \
	X(sendmsg)                                                                                 \
	X(recvmsg)                                                                                 \
	X(io_uring_enter)                                                                          \
	X(futex) X(epoll_wait) X(poll) X(ppoll) X(pwritev) X(fdatasync) X(clock_nanosleep)
enum fn_call {
#define X(name) FN_CALL_##name,
	FN_CALLS
#undef X
	    FN_CALLS_N
};
extern const char *const fn_call_names[FN_CALLS_N];

struct fn_thread_prof {
	pid_t tid;
	char comm[24];
	double cpu_ms;		    /* task-clock (perf only; 0 with strace) */
	uint64_t syscalls;	    /* system calls entered */
	uint64_t calls[FN_CALLS_N]; /* of those, by name (perf only) */
	double user_ms, sys_ms;	    /* from /proc/PID/task/TID/stat (10 ms ticks) */
};

struct fn_prof {
	pid_t tool_pid, target;
	char out[FN_PATH];
	const char *tool; /* "perf" or "strace"; NULL: neither is installed */
	unsigned n;	  /* after fn_prof_stop: threads seen */
	struct fn_thread_prof t[FN_THREADS_MAX];
	uint64_t syscalls; /* every thread's */
};

/* Which tool fn_prof_start would use ("perf stat", "strace -c -f"), or NULL. */
const char *fn_prof_tool(void);
/* Attaches the tool to target (every thread; perf also counts the threads' CPU) and waits
 * until it is attached; notes each thread's user and system time. 0, -ENOENT (no tool), or
 * -errno. */
int fn_prof_start(struct fn_prof *p, pid_t target);
/* Takes each thread's user and system time since fn_prof_start, detaches (SIGINT, 10 s),
 * parses the tool's output into p. 0 or -EIO (nothing parsed). */
int fn_prof_stop(struct fn_prof *p);

#endif
