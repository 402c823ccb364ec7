/*
 * cli.h - the parts of the `peergraph` command-line tool that its command files share: the
 * command tree and its option parsing, the exit statuses, argument checks, output (human
 * tables and JSON through jansson), and reaching the daemon.
 *
 * The tool is a client of peergraphd like any other program: it uses libpeergraph's public
 * header (peergraph.h) and nothing else of the project, so it can only do what the library
 * lets any program do. Every argument is checked here, before anything is sent, so a usage
 * error exits 2 with a message naming the argument and never reaches the daemon; what the
 * daemon refuses exits 1 (or 4: not found) with the daemon's own detail. doc/cli.md is the
 * reference of the commands, the exit statuses and the JSON shapes.
 */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "peergraph.h"

/* What the tool exits with; the same in every command (doc/cli.md, EXIT STATUS). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1,	  /* the daemon refused (or some records of a batch failed) */
	CLI_EXIT_USAGE = 2,	  /* bad arguments or input: nothing was sent for them */
	CLI_EXIT_UNREACHABLE = 3, /* no daemon, not allowed, went away, another protocol */
	CLI_EXIT_NOT_FOUND = 4,	  /* the graph, identity or record named does not exist */
	CLI_EXIT_BUSY = 5,	  /* the node's flood queues are full: nothing of what failed was
				   * stored; the same command can be run again after a pause */
	/* inside the tool only: the command is done (its help printed) and exits 0; being
	 * non-zero, it stops every caller that checks `if ((status = ...)) return status` */
	CLI_EXIT_DONE = -1,
};

/*
 * The error codes the tool must tell apart to choose an exit status. peergraph.h names them
 * only in its comments, but their numbers are the control API's status codes on the wire
 * (doc/api.md, "Errors"), so they cannot change; tests/cli/test_cli_parse.c checks them
 * against shared/pg_error.h.
 */
enum {
	CLI_E_NOT_FOUND = -1042,	  /* PG_E_NOT_FOUND: no such record or graph */
	CLI_E_IDENTITY_NOT_FOUND = -1106, /* PG_E_IDENTITY_NOT_FOUND */
	CLI_E_API_VERSION = -1160,	  /* PG_E_API_VERSION: the daemon speaks another version */
};

/* Bounds of what the tool checks before sending (doc/api.md, "Fields", and shared/record.h). */
enum {
	CLI_WHY_SIZE = 256,			/* an argument check's explanation */
	CLI_TIME_SIZE = 40,			/* an ISO 8601 time with its NUL */
	CLI_CLASSIFIER_MAX = 149,		/* bytes of a classifier */
	CLI_FRIENDLY_NAME_CODEPOINTS = 255,	/* code points of a friendly name */
	CLI_RECORD_SIZE_MIN = 1024,		/* a graph's smallest max record size */
	CLI_RECORD_SIZE_MAX = 60 * 1024 * 1024, /* ... and its largest */
	CLI_PASSWORD_MAX = 1024,		/* bytes of a password (the PASSWORD field) */
	CLI_EXPORT_MAX = 1024 * 1024,		/* bytes of an identity export (DATA) */
	CLI_QUERY_MAX = 65536,			/* bytes of a search query */
	CLI_SOCKET_PATH_MAX = 107,		/* sun_path less its NUL */
	CLI_LIFETIME_MAX_S = 0x7fffffff,	/* --expires: about 68 years */
	CLI_PATH_MAX = 4095,			/* a path sent to the daemon (PATH) */
	CLI_INPUT_FILE_MAX = CLI_RECORD_SIZE_MAX + 64, /* a payload file; the record bounds it */
};

/* ---- the command tree --------------------------------------------------------------------- */

enum {
	CLI_OPTS_MAX = 24, /* long options of one command, the common ones included */
};

struct cli {
	const char *socket;	   /* the daemon's socket: --socket, $PEERGRAPH_SOCKET, default */
	const char *socket_from;   /* where socket came from, for messages */
	bool json;		   /* --json */
	char cmd[64];		   /* "peergraph record add", for messages */
	const struct cli_cmd *now; /* the command being run (its help) */
	int status;		   /* the exit status cli_opt_next stopped with */
	bool opts_ready;	   /* cli_opt_next merged this command's options */
	char shortopts[32];	   /* ":h" and the command's own */
	struct option longopts[CLI_OPTS_MAX + 1];
	struct peergraph *pg; /* once cli_connect succeeded */
};

/*
 * A command: a group of commands (sub) or one that runs (run). help is its manual page from
 * SYNOPSIS to EXAMPLES; the printer adds the list of sub-commands, the global options and the
 * exit statuses, so every level's --help is complete without repeating them.
 */
struct cli_cmd {
	const char *name;
	const char *summary; /* one line, for the parent's COMMANDS */
	const char *help;
	int (*run)(struct cli *c, int argc, char **argv);
	const struct cli_cmd *const *sub; /* a group's commands, NULL-terminated */
};

/* Runs argv[0]'s command of cmd (argv[0] is cmd's own name): parses a group's options and
 * walks down to the command named, or runs a leaf. Returns the exit status (CLI_EXIT_DONE
 * for one that printed its help: main exits 0 for it). */
int cli_dispatch(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv);
/* Prints cmd's manual page to out (with path: "peergraph record add"). */
void cli_help_print(FILE *out, const char *path, const struct cli_cmd *cmd);

/* Option values of the common options and of the commands' long-only options. */
enum {
	CLI_OPT_JSON = 0x1000,
	CLI_OPT_SOCKET,
	CLI_OPT_VERSION,
	CLI_OPT_STOP,		/* cli_opt_next: end the command with c->status */
	CLI_OPT_FIRST = 0x1100, /* a command's own long-only options start here */
};

/* The next option of a leaf command: its value, -1 after the last, or CLI_OPT_STOP when the
 * command must end with c->status (CLI_EXIT_DONE: help printed; 2: a usage error, reported).
 * shortopts and longopts are the command's own; the common ones (--json, --socket, -h / --help) are
 * added and handled here. */
int cli_opt_next(struct cli *c, int argc, char **argv, const char *shortopts,
		 const struct option *longopts);
/* Checks the operands left after the options: at least min, at most max (-1: any). names
 * name them in order, for "missing GRAPH". 0, or the usage error reported (2). */
int cli_operands(struct cli *c, int argc, char **argv, int min, int max, const char *const *names);
/* For a command with no options of its own: the common options, then the operands as
 * cli_operands checks them. 0, or the status to end the command with. */
int cli_plain_args(struct cli *c, int argc, char **argv, int min, int max,
		   const char *const *names);
/* A delete command's one operand and its confirmation: -y / --yes, the operand (checked by
 * check), then "Delete <what> <operand> <with>?" on the terminal unless --yes; without a
 * terminal it refuses. 0 (argv[optind] is the operand), or the status to end with. */
struct cli_delete {
	const char *operand; /* its name in messages: "ID" */
	const char *what;    /* "graph" */
	const char *with;    /* "and all its records" */
	int (*check)(struct cli *c, const char *arg);
};
int cli_delete_args(struct cli *c, int argc, char **argv, const struct cli_delete *d);
/* Reports a usage error ("peergraph record add: <message>" and where to read more). 2. */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the daemon -------------------------------------------------------------------------- */

/* Connects to the daemon at c->socket. 0, or the exit status with the failure reported
 * (what went wrong and what to do about it). */
int cli_connect(struct cli *c);
/* Lists every element of a daemon list (identities, graphs) into *out (free()): fn lists up
 * to max elements of elem bytes into buf and returns how many there are, or an error. The
 * count fetched, or an error. */
typedef long (*cli_list_fn)(struct cli *c, void *buf, size_t max);
long cli_list_all(struct cli *c, cli_list_fn fn, size_t elem, void **out);
/* A listing command (identity list, graph list): no operands; lists with fn, prints with
 * print; what names the list in a failure ("the graphs"). The exit status. */
int cli_list_run(struct cli *c, int argc, char **argv, cli_list_fn fn, size_t elem,
		 int (*print)(struct cli *c, const void *list, long n), const char *what);
/* Closes the connection (if any). */
void cli_disconnect(struct cli *c);
/* The exit status for a library error (on c's connection, which tells a closed graph's
 * -ENOTCONN from a closed connection's). */
int cli_exit_of(const struct cli *c, int err);
/* What an error means: the daemon's detail of the last call if it gave one, else the
 * library's text. Never NULL. */
const char *cli_errtext(const struct cli *c, int err);
/* Reports a failed call ("peergraph graph open: <what>: <why>"; in JSON mode also the error
 * document on stdout) and returns its exit status. */
int cli_fail(struct cli *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reports a failure whose explanation the tool has itself (why) with the given exit status
 * and error code ("peergraph graph connect: <what>: <why>"; the JSON error document too).
 * Returns status. */
int cli_fail_why(struct cli *c, int status, int err, const char *why, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reports a local failure (out of memory, an unwritable file): 1. */
int cli_local_fail(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- argument checks (0, or -EINVAL / -ERANGE with why filled) --------------------------- */

/* Writes an explanation to why (CLI_WHY_SIZE bytes) and returns err. */
int cli_why(char *why, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A decimal number in [min, max]. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why);
/* A signed decimal 64-bit number. */
int cli_parse_i64(const char *s, int64_t *out, char *why);
/* A size: digits with an optional K / KiB, M / MiB or G / GiB suffix (powers of 1024). */
int cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why);
/* A duration in seconds: digits with an optional s, m, h or d suffix. */
int cli_parse_duration(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why);
/* A time: ISO 8601 (YYYY-MM-DD[Thh:mm[:ss[.ffffff]]][Z|+hh:mm|-hh:mm], UTC when no zone) or
 * @SECONDS since the epoch; to Unix microseconds. */
int cli_parse_time(const char *s, uint64_t *out_us, char *why);
/* A GUID, 8-4-4-4-12 hex (braces optional). */
int cli_parse_guid(const char *s, struct peergraph_guid *out, char *why);

/* Attributes of one record, as --attr or a JSON line gives them. Names are copied; string
 * values point at the caller's text, which must outlive the set. */
struct cli_attrs {
	unsigned n;
	struct peergraph_attr a[PEERGRAPH_ATTRS_MAX];
	char names[PEERGRAPH_ATTRS_MAX][PEERGRAPH_ATTR_NAME_MAX + 1];
};

/* Checks an attribute name: 1..40 ASCII letters and digits, not one of the reserved names. */
int cli_attr_name_check(const char *name, size_t len, char *why);
/* Adds (replace: or replaces) an attribute; a name given twice is an error without replace. */
int cli_attrs_put(struct cli_attrs *set, const char *name, size_t len,
		  const struct peergraph_attr *val, bool replace, char *why);
/* Removes an attribute by name; -ENOENT when the set has none of that name. */
int cli_attrs_remove(struct cli_attrs *set, const char *name);
/* Parses NAME=TYPE:VALUE (TYPE int, str or date) into the set. */
int cli_attr_parse(struct cli_attrs *set, const char *arg, bool replace, char *why);

/* Text the daemon takes: a graph id, a classifier, a friendly name, a peer name, a creator. */
int cli_check_graph_id(const char *s, char *why);
int cli_check_classifier(const char *s, char *why);
int cli_check_friendly_name(const char *s, char *why);
int cli_check_peer_name(const char *s, char *why);
int cli_check_creator(const char *s, char *why);
/* True for valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
bool cli_utf8_valid(const char *s, size_t len);

/* ---- text, files, output ------------------------------------------------------------------- */

/* Unix microseconds as ISO 8601 UTC: "2026-03-01T12:34:56Z", with frac ".123456" before Z. */
void cli_time_format(uint64_t us, bool frac, char out[CLI_TIME_SIZE]);
/* Wall-clock now, Unix microseconds. */
uint64_t cli_now_us(void);
/* Monotonic now, seconds. */
double cli_mono_s(void);

/* Base64 (RFC 4648, padded). encode writes 4 * ceil(len / 3) chars and a NUL; decode returns
 * the bytes written (at most len * 3 / 4) or -EINVAL. */
void cli_b64_encode(const void *in, size_t len, char *out);
long cli_b64_decode(const char *in, size_t len, uint8_t *out);

/* Reads a whole file ("-": standard input) of at most max bytes, NUL-terminated; free(). 0,
 * -EFBIG, or -errno. */
int cli_file_read(const char *path, size_t max, uint8_t **buf, size_t *len);
/* Makes path absolute for the daemon, which has another working directory: resolved when it
 * exists, else its directory resolved and its last component joined. 0 or -errno. */
int cli_path_absolute(const char *path, char out[CLI_PATH_MAX + 1]);

/* Asks yes / no on the terminal; false when there is no terminal. */
bool cli_confirm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints doc (compact, one line) to stdout and frees it. 0, or 1 with the failure reported. */
int cli_json_print(struct cli *c, json_t *doc);
/* Sets key to a new value in obj (json_object_set_new that keeps going on NULL: the print
 * reports the document as incomplete). */
void cli_json_set(json_t *obj, const char *key, json_t *val);
/* A graph's status as JSON (with_count: it carries records and max record size). */
json_t *cli_json_graph_status(const struct peergraph_graph_status *st, bool with_count);

/* Checks a HOST:PORT operand as the daemon reads it: a host of 1..253 printable bytes (an
 * IPv6 address in brackets) and a port of 1..65535. */
int cli_check_address(const char *s, char *why);

/* A graph's status as lines of fields (graph status, stats GRAPH). */
void cli_graph_status_print(const struct peergraph_graph_status *st);

/* A table of text cells, printed with aligned columns. Bounded: cells are copied. */
struct cli_table;
struct cli_table *cli_table_create(unsigned ncols, const char *const *headers);
/* Adds a row of ncols cells (NULL: empty); a failure (out of memory) is kept for
 * cli_table_finish, so a caller adds its rows without checking each (t NULL is fine). */
void cli_table_row(struct cli_table *t, const char *const *cells);
/* Prints the table to stdout (the last column not padded) and frees it: 0, or 1 with the
 * failure reported when it could not be built whole. */
int cli_table_finish(struct cli *c, struct cli_table *t);

/* ---- records (record_out.c) ---------------------------------------------------------------- */

/* A record as JSON (doc/cli.md, "record"). NULL when out of memory. */
json_t *cli_json_record(const struct peergraph_record *r);
/* A record as a block of "field: value" lines (record get). */
void cli_record_print(const struct peergraph_record *r);
/* The header and a row of the streaming record table (list, search). */
void cli_record_row_header(void);
void cli_record_row(const struct peergraph_record *r);

/* ---- the commands ------------------------------------------------------------------------ */

extern const struct cli_cmd cli_identity_cmd;
extern const struct cli_cmd cli_graph_cmd;
extern const struct cli_cmd cli_record_cmd;
extern const struct cli_cmd cli_stats_cmd;
/* graph listen / connect / disconnect / neighbours (graph_link.c). */
extern const struct cli_cmd cli_graph_listen_cmd, cli_graph_connect_cmd, cli_graph_disconnect_cmd,
    cli_graph_neighbours_cmd;

/* record list / record search (record_query.c). */
int cli_record_list(struct cli *c, int argc, char **argv);
int cli_record_search(struct cli *c, int argc, char **argv);
extern const char cli_record_list_help[], cli_record_search_help[];

/* record add --from: the batch loader (record_batch.c). */
struct cli_batch_opts {
	const char *graph;
	const char *from; /* a file, or "-" */
	bool keep_going;  /* skip (and count) malformed lines instead of stopping */
	unsigned batch;	  /* records per call */
};
int cli_record_add_batch(struct cli *c, const struct cli_batch_opts *o);

/* record watch (watch.c). */
int cli_record_watch(struct cli *c, int argc, char **argv);
extern const char cli_record_watch_help[];

/* identity export / import (password.c). read: the first line of file ("-": standard input),
 * before connecting; without a file it only checks that there is a terminal to ask on and
 * leaves out "". prompt: asks on the terminal (echo off; twice when confirm) unless out is
 * set. 0, or the exit status with the failure reported; out is wiped on failure. */
int cli_password_read(struct cli *c, const char *file, char *out, size_t cap);
int cli_password_prompt(struct cli *c, bool confirm, char *out, size_t cap);

#endif
