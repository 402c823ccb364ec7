/*
 * main.c - `peergraph`, the command-line tool of peergraphd: the root of its command tree,
 * `peergraph help`, and what every run shares (where the socket comes from, flushing the
 * output and reporting when it could not be written).
 *
 * The commands themselves are one file per noun: identity.c, graph.c, record*.c, watch.c,
 * stats.c; cmd.c walks the tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int help_run(struct cli *c, int argc, char **argv);

static const char root_help[] =
    "SYNOPSIS\n"
    "    peergraph [--socket PATH] [--json] COMMAND [ARGS...]\n"
    "    peergraph help [COMMAND [SUBCOMMAND]]\n"
    "    peergraph --version\n"
    "\n"
    "DESCRIPTION\n"
    "    Manages a peergraph node through its daemon, peergraphd: identities (Ed25519\n"
    "    keys with peer names), graphs (record databases flooded between nodes) and\n"
    "    their records, which can be added, updated, deleted, read, searched and\n"
    "    watched. Every command is one or a few calls of the control API (doc/api.md)\n"
    "    through libpeergraph, on the daemon's Unix socket.\n"
    "\n"
    "    Output is a table or a block of fields for a person by default, and JSON with\n"
    "    --json. GUIDs are written 8-4-4-4-12 in lowercase hex; times are ISO 8601 in\n"
    "    UTC (2026-03-01T12:34:56Z; in JSON with microseconds, .123456Z).\n"
    "\n"
    "JSON OUTPUT\n"
    "    With --json a command prints exactly one JSON document, on one line, to\n"
    "    standard output; record list, record search and record watch print JSON lines\n"
    "    instead (one object per record or event) so that they stream. When a command\n"
    "    fails after its arguments were accepted, the document (or the last line) is\n"
    "        {\"error\": {\"exit\": 4, \"code\": -1042, \"message\": \"...\"}}\n"
    "    with the exit status, the library's error code and the message also written to\n"
    "    standard error. Usage errors (exit status 2) write to standard error only.\n"
    "    Key order is fixed; keys may be added in later releases, never renamed. The\n"
    "    shapes of every command are listed in doc/cli.md.\n"
    "\n"
    "ENVIRONMENT\n"
    "    " PEERGRAPH_SOCKET_ENV "   the daemon's socket when --socket is not given\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity create alice --friendly-name 'Alice'\n"
    "    peergraph graph create chat\n"
    "    peergraph record add chat --type 1b4e28ba-2fa1-11d2-883f-0016d3cca427 \\\n"
    "        --payload 'hello' --attr room=str:lobby\n"
    "    peergraph --json record list chat | jq -r .id\n"
    "    peergraph record watch chat --count 10 --timeout 60\n";

static const char help_help[] =
    "SYNOPSIS\n"
    "    peergraph help [COMMAND [SUBCOMMAND]]\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints the manual page of a command: the same as `peergraph COMMAND\n"
    "    SUBCOMMAND --help`.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph help record add\n";

static const struct cli_cmd help_cmd = {
	"help", "print the manual page of a command", help_help, help_run, NULL,
};

static const struct cli_cmd *const nouns[] = {
	&cli_identity_cmd, &cli_graph_cmd, &cli_record_cmd, &cli_stats_cmd, &help_cmd, NULL,
};

static const struct cli_cmd root = {
	"peergraph", "manage a peergraph node through its daemon", root_help, NULL, nouns,
};

/* peergraph help [NOUN [VERB]]: finds the command by its names and prints its page. */
static int help_run(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = &root;
	char path[64] = "peergraph";
	int status = cli_plain_args(c, argc, argv, 0, 2, NULL);

	if (status)
		return status;
	for (int i = optind; i < argc; i++) {
		const struct cli_cmd *const *s = cmd->sub;

		while (s && *s && strcmp((*s)->name, argv[i]) != 0)
			s++;
		if (!s || !*s)
			return cli_usage(c, "no command '%s' in `%s`", argv[i], path);
		cmd = *s;
		snprintf(path + strlen(path), sizeof(path) - strlen(path), " %s", cmd->name);
	}
	cli_help_print(stdout, path, cmd);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	const char *env = getenv(PEERGRAPH_SOCKET_ENV);
	int status;

	c.socket = PEERGRAPH_SOCKET_DEFAULT;
	c.socket_from = "the default";
	if (env && env[0]) {
		c.socket = env;
		c.socket_from = "$" PEERGRAPH_SOCKET_ENV;
	}
	status = cli_dispatch(&c, &root, argc, argv);
	if (status == CLI_EXIT_DONE)
		status = CLI_EXIT_OK;
	cli_disconnect(&c);
	/* what could not be written must not pass for success (a full disk, a closed pipe) */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "peergraph: writing the output: %s\n", strerror(errno));
		if (status == CLI_EXIT_OK)
			status = CLI_EXIT_FAILED;
	}
	return status;
}
