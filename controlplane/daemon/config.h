/*
 * config.h - peergraphd's configuration: the file (/etc/peergraph/peergraphd.conf), overrides
 * from the command line, and what SIGHUP may change while the daemon runs.
 *
 * The file is INI, read by Debian's libinih, and strict: an unknown section or key, a key
 * given twice, a value out of its bounds, an empty value (socket_group, [dataplane] address
 * and node_id excepted) or a line longer than PGD_CONFIG_LINE_MAX is an error that names the file,
 * the line and the key and says what is allowed. A file with any error changes nothing. Every key,
 * with its bounds, its default and its meaning, is in one table (config.c), from which
 * pgd_config_write and the example file doc/peergraphd.conf.example are made. The syntax:
 *
 *   [section]                  daemon, store, dataplane or fault; each at most once
 *   key = value                whitespace around both is trimmed; "key: value" works too
 *   # comment, ; comment       on a line of their own; " ;" also starts a comment at the end
 *                              of a line (inih's rule; '#' there is part of the value)
 *   sizes                      bytes, with an optional K, M, G or T suffix (powers of 1024)
 *   booleans                   true/false, yes/no, on/off, 1/0
 *   log levels                 error, warn, info, debug
 *   probabilities              0, 1, or "0." and at most 9 digits (0.05), no exponent
 *   addresses                  a numeric IPv4 address or a bracketed IPv6 one, ':' and a
 *                              port (0.0.0.0:3587, [::1]:0); "" or "none" for none
 *
 * [fault]'s drop + duplicate + reorder must not exceed 1: a file is checked once it is read
 * whole (the message names the line of the last of them it set), an override as it is
 * applied (so lower one before raising another).
 *
 * Paths and names are printable ASCII without spaces, so every value a file can hold is
 * written back by pgd_config_write as it was read.
 *
 * Reload: the daemon builds a fresh configuration on SIGHUP (defaults, the file, then the
 * command line's overrides again, so they keep winning) and hands it to pgd_config_reload,
 * which applies the settings marked reloadable and reports each other one that differs as
 * needing a restart.
 *
 * Thread safety: pgd_config_parse and pgd_config_load may run on any thread (inih's options
 * are process globals in Debian's build; config.c sets them under a lock for each parse).
 * A struct pgd_config belongs to its caller.
 */
#ifndef PGD_CONFIG_H
#define PGD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "link/fault.h"
#include "peername.h"

enum {
	PGD_CONFIG_FILE_MAX = 1 << 20, /* bytes of a configuration file */
	PGD_CONFIG_LINE_MAX = 4352,    /* bytes of one line, its newline excluded: room for a
					* state_dir of PATH_MAX - 1 bytes and some indentation */
	PGD_CONFIG_ERR_SIZE = 512,     /* an err buffer that holds every message whole */
	PGD_SOCKET_SIZE = 108,	       /* sizeof(sockaddr_un.sun_path): 107 bytes and a NUL */
	PGD_GROUP_MAX = 32,	       /* bytes of a group name (useradd's bound) */
	PGD_ADDR_SIZE = 64,	       /* "[<IPv6, 45 bytes>]:<port>" and a NUL, with room */
	PGD_BACKEND_SIZE = 16,	       /* "uring", "sockets" and a NUL */
	PGD_NODE_ID_SIZE = 257,	       /* a node id of 1..256 bytes (dataplane/node.h) and a NUL */
};

/* The settings. Strings are NUL-terminated and zero-filled past their end. */
struct pgd_config {
	/* [daemon] */
	char state_dir[PATH_MAX];	      /* absolute; one directory per graph below it */
	char socket[PGD_SOCKET_SIZE];	      /* the control socket's absolute path */
	char trust[PATH_MAX];		      /* the trust file (trust.h); "": none */
	char socket_group[PGD_GROUP_MAX + 1]; /* admitted besides the daemon's uid and root; "" */
	int log_level;			      /* syslog priority: LOG_ERR, LOG_WARNING, LOG_INFO or
					       * LOG_DEBUG; reloadable */
	uint32_t max_clients;		      /* connections at once */
	uint64_t client_queue_bytes;	      /* output queued per client; reloadable */
	uint32_t event_queue;		      /* events queued per subscriber; reloadable */
	char node_name[PG_PEERNAME_SIZE];     /* "0.<classifier>": creator id in unsecured graphs */
	/* [store]: defaults for the graphs' stores (dataplane/store.h) */
	uint32_t commit_interval_us;
	uint32_t max_records;
	uint64_t max_bytes;
	uint32_t segment_size;
	bool direct_io;
	/* [dataplane] (dataplane/node.h, doc/flood.md) */
	uint32_t workers;
	char dp_address[PGD_ADDR_SIZE];	   /* numeric "host:port" or "[v6]:port"; "" or "none":
					    * no dataplane socket */
	char dp_backend[PGD_BACKEND_SIZE]; /* "uring" or "sockets" */
	uint32_t max_datagram;		   /* a link's datagram bound, 512..65507 */
	uint32_t window;		   /* a link's send window, datagrams (power of two) */
	uint64_t ring_bytes;		   /* each graph's flood ring per producer */
	char node_id[PGD_NODE_ID_SIZE];	   /* this node in HELLOs; "": node_name */
	uint32_t reasm_timeout_ms;	   /* a link's reassembly timeout */
	bool dp_timing;			   /* time every stage of every record */
	/* [fault]: fault injection on what the dataplane receives (dataplane/link/fault.h), for
	 * tests; every fault off by default. The file sets drop, dup (key "duplicate"),
	 * reorder, delay_us, jitter_us and seed; slots and max_len keep their defaults
	 * (DP_FAULT_SLOTS_DEFAULT, DP_FAULT_LEN_DEFAULT). */
	struct dp_fault_config fault;
	uint32_t slow_us; /* [fault] slow_us: a worker waits this long per DATA datagram */
};

/* Fills *c with every default (node_name: "0." and the host name, or "0.peergraphd" when the
 * host name is not a valid classifier). Cannot fail. */
void pgd_config_default(struct pgd_config *c);

/* The node id the dataplane announces: [dataplane] node_id, or [daemon] node_name when it is
 * empty. Never NULL. */
const char *pgd_config_node_id(const struct pgd_config *c);

/*
 * Reads the file at path over *c: the keys it sets replace those of *c, the others stay.
 * 0; PG_E_CONFIG when its content is wrong or it is larger than PGD_CONFIG_FILE_MAX or
 * writable by others; -EINVAL when it is not a regular file; -errno when it cannot be read.
 * On error *c is unchanged and err holds "PATH:LINE: [section] key: what is wrong
 * (allowed: ...)" (or "PATH: ..." for the file as a whole), cut to errlen.
 */
int pgd_config_load(struct pgd_config *c, const char *path, char *err, size_t errlen);

/* The same over text[0..len) (NULs refused), named name in messages. 0 or PG_E_CONFIG. */
int pgd_config_parse(struct pgd_config *c, const char *name, const char *text, size_t len,
		     char *err, size_t errlen);

/* Applies one override "section.key=value" (e.g. "store.max_records=1000"; whitespace around
 * the key and the value trimmed). 0 or PG_E_CONFIG with err "command line: [section] key:
 * ..."; *c unchanged on error. */
int pgd_config_set(struct pgd_config *c, const char *assignment, char *err, size_t errlen);

/* Writes the whole configuration to f as a valid file, each key with its help as comments
 * (peergraphd --print-config). 0 or -EIO. */
int pgd_config_write(const struct pgd_config *c, FILE *f);

/* Writes the example file (doc/peergraphd.conf.example): the defaults, documented, with
 * node_name commented out because its default depends on the host. 0 or -EIO. */
int pgd_config_write_example(FILE *f);

/* True when every setting of a equals b's. */
bool pgd_config_equal(const struct pgd_config *a, const struct pgd_config *b);

/*
 * SIGHUP: copies the reloadable settings of next into cur, and describes into log one line
 * per setting that differs: "daemon.log_level: info -> debug (applied)" or
 * "store.max_records: 1048576 -> 1000 (needs a restart; keeps 1048576)". log is cut to
 * loglen (NUL-terminated when loglen > 0; may be NULL when loglen is 0). Returns how many
 * reloadable settings changed (0 or more); cannot fail.
 */
int pgd_config_reload(struct pgd_config *cur, const struct pgd_config *next, char *log,
		      size_t loglen);

/* Name of a log level ("info"), or "?" for a value that is not one. */
const char *pgd_config_log_level_name(int level);

#endif
