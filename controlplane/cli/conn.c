/*
 * conn.c - reaching peergraphd, and turning what goes wrong into an exit status and a
 * message that says what to do next.
 *
 * A failure is written to standard error as "peergraph COMMAND: what failed: why". The why is
 * the daemon's own detail of the call when it sent one (it names the graph, the path, the
 * field), else the library's text for the code. With --json the same failure is also the
 * command's one JSON document on standard output, so a script that parses stdout sees it too
 * (doc/cli.md, "errors").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	LIST_FIRST = 64, /* list elements asked for first; the daemon says how many it holds */
};

int cli_exit_of(const struct cli *c, int err)
{
	switch (err) {
	case 0:
		return CLI_EXIT_OK;
	case CLI_E_NOT_FOUND:
	case CLI_E_IDENTITY_NOT_FOUND:
	case -ENOENT: /* after connecting: a file the daemon was told to read */
		return CLI_EXIT_NOT_FOUND;
	case -ENOTCONN:
		/* the daemon's "graph is closed", unless the library closed the connection */
		return c->pg && peergraph_fd(c->pg) >= 0 ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
	case -ECONNRESET:
	case -EPIPE:
	case -ECONNREFUSED:
	case CLI_E_API_VERSION:
		return CLI_EXIT_UNREACHABLE;
	case PEERGRAPH_E_BUSY:
		return CLI_EXIT_BUSY;
	default:
		return CLI_EXIT_FAILED;
	}
}

const char *cli_errtext(const struct cli *c, int err)
{
	static char text[2048]; /* the tool is one thread, and says one error at a time */
	const char *m = c->pg ? peergraph_last_message(c->pg) : "", *meaning;

	/* the library's texts for these speak of connecting; once connected, they are files */
	if (c->pg && (err == -ENOENT || err == -EACCES))
		meaning = strerror(-err);
	else
		meaning = peergraph_strerror(err);
	if (!m || !m[0])
		return meaning;
	/* The daemon's detail names what failed (a graph, a path, a field) but not always why:
	 * the identity store's names only the file. The code's meaning goes after it, unless
	 * the detail says it already; not for PG_E_NOT_FOUND, whose text speaks of records
	 * and which the daemon also returns for graphs, always with a detail that says so. */
	if (err > -1000 || err == CLI_E_NOT_FOUND || strstr(m, meaning))
		return m;
	snprintf(text, sizeof(text), "%s (%s)", m, meaning);
	return text;
}

/* The error document of --json mode. */
static void json_error(struct cli *c, int status, int err, const char *message)
{
	json_t *doc = json_pack("{s:{s:i, s:i, s:s}}", "error", "exit", status, "code", err,
				"message", message);

	cli_json_print(c, doc);
}

/* Writes "peergraph CMD: <what>: <why>" and, in JSON mode, the error document. */
static void report(struct cli *c, int status, int err, const char *what, const char *why)
{
	char message[2048];

	snprintf(message, sizeof(message), "%s: %s", what, why);
	fprintf(stderr, "%s: %s\n", c->cmd, message);
	if (c->json)
		json_error(c, status, err, message);
}

int cli_fail(struct cli *c, int err, const char *fmt, ...)
{
	int status = cli_exit_of(c, err);
	char what[1024], why[2048 + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (status != CLI_EXIT_UNREACHABLE) {
		report(c, status, err, what, cli_errtext(c, err));
		return status;
	}
	/* connected, then lost: the daemon stopped, crashed, or found the stream broken */
	snprintf(why, sizeof(why),
		 "%s (is peergraphd still running? its log says why it closed "
		 "the connection: journalctl -u peergraphd)",
		 cli_errtext(c, err));
	report(c, status, err, what, why);
	return status;
}

int cli_fail_why(struct cli *c, int status, int err, const char *why, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	report(c, status, err, what, why);
	return status;
}

int cli_local_fail(struct cli *c, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", c->cmd, message);
	if (c->json)
		json_error(c, CLI_EXIT_FAILED, -EIO, message);
	return CLI_EXIT_FAILED;
}

/* What to do about a failed connect. */
static const char *connect_hint(int err)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		return "is peergraphd running? start it with `peergraphd` or `systemctl start "
		       "peergraphd`; set --socket or " PEERGRAPH_SOCKET_ENV " for another socket";
	case -EACCES:
	case -EPERM:
		return "the daemon admits its own user, root and the members of its group: run "
		       "as one of them, or ask to be added to the group";
	case CLI_E_API_VERSION:
		return "this peergraph and the daemon come from different releases: use the "
		       "peergraph installed with peergraphd";
	case -ECONNRESET:
		return "the daemon closed the connection at once: see its log "
		       "(journalctl -u peergraphd)";
	default:
		return "see the daemon's log (journalctl -u peergraphd)";
	}
}

int cli_connect(struct cli *c)
{
	char what[256], why[512];
	int err;

	if (strlen(c->socket) > CLI_SOCKET_PATH_MAX)
		return cli_usage(c, "the socket path from %s is longer than %d bytes: %s",
				 c->socket_from, CLI_SOCKET_PATH_MAX, c->socket);
	err = peergraph_connect(c->socket, &c->pg);
	if (!err)
		return CLI_EXIT_OK;
	c->pg = NULL;
	/* a plain errno's text here: the library's own texts would repeat the hint */
	snprintf(why, sizeof(why), "%s (%s)",
		 err > -1000 ? strerror(-err) : peergraph_strerror(err), connect_hint(err));
	snprintf(what, sizeof(what), "cannot reach the daemon at %s (socket from %s)", c->socket,
		 c->socket_from);
	report(c, CLI_EXIT_UNREACHABLE, err, what, why);
	return CLI_EXIT_UNREACHABLE;
}

long cli_list_all(struct cli *c, cli_list_fn fn, size_t elem, void **out)
{
	size_t cap = LIST_FIRST;
	void *buf = NULL, *grown;
	long n = 0;

	/* the list may grow between two calls: a second try with the larger count is enough
	 * for a listing, a third would only chase a busy script */
	for (int tries = 0; tries < 3; tries++) {
		grown = realloc(buf, cap * elem);
		if (!grown) {
			free(buf);
			return -ENOMEM;
		}
		buf = grown;
		n = fn(c, buf, cap);
		if (n < 0 || (size_t)n <= cap)
			break;
		cap = (size_t)n + LIST_FIRST;
	}
	if (n < 0) {
		free(buf);
		return n;
	}
	*out = buf;
	return (size_t)n < cap ? n : (long)cap;
}

int cli_list_run(struct cli *c, int argc, char **argv, cli_list_fn fn, size_t elem,
		 int (*print)(struct cli *c, const void *list, long n), const char *what)
{
	int status;
	void *list;
	long n;

	if ((status = cli_plain_args(c, argc, argv, 0, 0, NULL)) || (status = cli_connect(c)))
		return status;
	n = cli_list_all(c, fn, elem, &list);
	if (n < 0)
		return cli_fail(c, (int)n, "cannot list %s", what);
	status = print(c, list, n);
	free(list);
	return status;
}

void cli_disconnect(struct cli *c)
{
	peergraph_close(c->pg);
	c->pg = NULL;
}
