/*
 * cmd.c - the command tree of `peergraph`: walking from the tool's name down to the command
 * to run, the options every level takes, operand counts, usage errors and manual pages.
 *
 * A level is either a group (peergraph, peergraph record) or a leaf (peergraph record add).
 * A group takes the common options before the name of its sub-command and stops at that
 * name (getopt's "+"), so `peergraph --json record list G` and `peergraph record --json list
 * G` both work; a leaf parses the rest with argument permutation, so its options may come
 * before, between or after its operands. The common options are accepted at every level, so
 * `--json` and `--socket` can be added at the end of any command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct option common_opts[] = {
	{ "json", no_argument, NULL, CLI_OPT_JSON },
	{ "socket", required_argument, NULL, CLI_OPT_SOCKET },
	{ "help", no_argument, NULL, 'h' },
};

enum {
	NCOMMON = sizeof(common_opts) / sizeof(common_opts[0]),
};

static const char global_options[] =
    "GLOBAL OPTIONS (accepted by every command, anywhere on its line)\n"
    "    --socket PATH   the daemon's control socket; default: $" PEERGRAPH_SOCKET_ENV ",\n"
    "                    else " PEERGRAPH_SOCKET_DEFAULT "\n"
    "    --json          machine output: one JSON document on standard output (JSON\n"
    "                    lines for record list, search and watch); doc/cli.md and\n"
    "                    `peergraph --help` describe the shapes\n"
    "    -h, --help      this page\n";

static const char exit_statuses[] =
    "EXIT STATUS\n"
    "    0   success\n"
    "    1   the operation failed: the daemon refused it, or some records of a batch\n"
    "        were refused (the summary says which and why)\n"
    "    2   bad usage: an unknown option, a malformed or out-of-range argument, an\n"
    "        unreadable input file, a malformed input line, a deletion not confirmed;\n"
    "        it was not sent\n"
    "    3   cannot reach the daemon: it is not running, the socket is wrong, this user\n"
    "        is not allowed, it went away, or it speaks another protocol version\n"
    "    4   not found: the graph, identity or record named does not exist (or the\n"
    "        file the daemon was told to read)\n"
    "    5   busy: the node's flood queues are full (a neighbour is slower than this\n"
    "        publisher); what failed so was not stored: run it again after a pause\n";

void cli_help_print(FILE *out, const char *path, const struct cli_cmd *cmd)
{
	/* the parts every page shares go before its EXAMPLES, as in a manual page */
	const char *examples = strstr(cmd->help, "\nEXAMPLES\n");
	int head = examples ? (int)(examples - cmd->help) : (int)strlen(cmd->help);

	fprintf(out, "%s - %s\n\n%.*s", path, cmd->summary, head, cmd->help);
	if (cmd->sub) {
		fputs("\nCOMMANDS\n", out);
		for (const struct cli_cmd *const *s = cmd->sub; *s; s++)
			fprintf(out, "    %-10s %s\n", (*s)->name, (*s)->summary);
		fprintf(out, "    Each command has its own page: %s COMMAND --help\n", path);
	}
	fprintf(out, "\n%s%s\n%s", global_options, examples ? examples : "", exit_statuses);
}

int cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nSee `%s --help` for the synopsis and examples.\n", c->cmd);
	return CLI_EXIT_USAGE;
}

/* Merges the command's options with the common ones into c (once per command). */
static int opts_merge(struct cli *c, const char *shortopts, const struct option *longopts)
{
	size_t n = 0;

	if (snprintf(c->shortopts, sizeof(c->shortopts), "%s:h%s", shortopts[0] == '+' ? "+" : "",
		     shortopts + (shortopts[0] == '+')) >= (int)sizeof(c->shortopts))
		return -ENOSPC;
	for (size_t i = 0; i < NCOMMON; i++)
		c->longopts[n++] = common_opts[i];
	for (; longopts && longopts[0].name; longopts++) {
		if (n >= CLI_OPTS_MAX)
			return -ENOSPC;
		c->longopts[n++] = *longopts;
	}
	memset(&c->longopts[n], 0, sizeof(c->longopts[n]));
	c->opts_ready = true;
	optind = 0; /* GNU getopt: start over, for a new argv */
	opterr = 0; /* its messages name argv[0], not the command: we write our own */
	return 0;
}

/* Stops the command with a usage error about the option just read. */
static int opt_error(struct cli *c, int o, char **argv)
{
	const char *arg = argv[optind - 1];
	char name[64];

	if (strncmp(arg, "--", 2) == 0) /* a long option: its name, without any =value */
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="), arg);
	else /* a short one, maybe in a cluster (-yx): the letter getopt stopped at */
		snprintf(name, sizeof(name), "-%c", optopt);
	if (o == ':')
		c->status = cli_usage(c, "option %s needs a value", name);
	else
		c->status = cli_usage(c, "unknown option '%s'", name);
	return CLI_OPT_STOP;
}

int cli_opt_next(struct cli *c, int argc, char **argv, const char *shortopts,
		 const struct option *longopts)
{
	int o;

	if (!c->opts_ready && opts_merge(c, shortopts, longopts)) {
		c->status = cli_local_fail(c, "internal error: too many options");
		return CLI_OPT_STOP;
	}
	o = getopt_long(argc, argv, c->shortopts, c->longopts, NULL);
	switch (o) {
	case CLI_OPT_JSON:
		c->json = true;
		return cli_opt_next(c, argc, argv, shortopts, longopts);
	case CLI_OPT_SOCKET:
		if (!optarg[0] || strlen(optarg) > CLI_SOCKET_PATH_MAX) {
			c->status = cli_usage(c, "--socket '%s': a socket path is 1 to %d bytes",
					      optarg, CLI_SOCKET_PATH_MAX);
			return CLI_OPT_STOP;
		}
		c->socket = optarg;
		c->socket_from = "--socket";
		return cli_opt_next(c, argc, argv, shortopts, longopts);
	case 'h':
		cli_help_print(stdout, c->cmd, c->now);
		c->status = CLI_EXIT_DONE;
		return CLI_OPT_STOP;
	case '?':
	case ':':
		return opt_error(c, o, argv);
	default:
		return o;
	}
}

int cli_operands(struct cli *c, int argc, char **argv, int min, int max, const char *const *names)
{
	int n = argc - optind;

	(void)argv;
	if (n < min)
		return cli_usage(c, "missing %s", names[n]);
	if (max >= 0 && n > max)
		return cli_usage(c, "unexpected operand '%s'", argv[optind + max]);
	return 0;
}

int cli_plain_args(struct cli *c, int argc, char **argv, int min, int max, const char *const *names)
{
	int o;

	while ((o = cli_opt_next(c, argc, argv, "", NULL)) != -1)
		if (o == CLI_OPT_STOP)
			return c->status;
	return cli_operands(c, argc, argv, min, max, names);
}

int cli_delete_args(struct cli *c, int argc, char **argv, const struct cli_delete *d)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ 0 },
	};
	const char *arg;
	bool yes = false;
	int o, status;

	while ((o = cli_opt_next(c, argc, argv, "y", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		yes = true;
	}
	if ((status = cli_operands(c, argc, argv, 1, 1, &d->operand)) ||
	    (status = d->check(c, argv[optind])))
		return status;
	arg = argv[optind];
	if (!yes && !cli_confirm("Delete %s %s %s?", d->what, arg, d->with))
		return cli_usage(c,
				 "not confirmed: %s %s kept (give --yes to delete without asking)",
				 d->what, arg);
	return 0;
}

/* "identity, graph, record" for a message. */
static void sub_names(const struct cli_cmd *cmd, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (const struct cli_cmd *const *s = cmd->sub; *s && used < cap; s++)
		used +=
		    (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", (*s)->name);
}

/* A group: its options, then the sub-command named next. */
static int group_run(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option group_opts[] = {
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ 0 },
	};
	char names[256];
	int o;

	while ((o = cli_opt_next(c, argc, argv, "+", group_opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o != CLI_OPT_VERSION)
			continue;
		if (c->json)
			return cli_json_print(c, json_pack("{s:s}", "version", CLI_VERSION));
		printf("peergraph %s\n", CLI_VERSION);
		return CLI_EXIT_OK;
	}
	sub_names(cmd, names, sizeof(names));
	if (optind >= argc)
		return cli_usage(c, "missing a command: %s", names);
	for (const struct cli_cmd *const *s = cmd->sub; *s; s++)
		if (strcmp((*s)->name, argv[optind]) == 0)
			return cli_dispatch(c, *s, argc - optind, argv + optind);
	return cli_usage(c, "unknown command '%s': one of %s", argv[optind], names);
}

int cli_dispatch(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv)
{
	size_t used = strlen(c->cmd);

	if (used)
		snprintf(c->cmd + used, sizeof(c->cmd) - used, " %s", cmd->name);
	else
		snprintf(c->cmd, sizeof(c->cmd), "%s", cmd->name);
	c->now = cmd;
	c->opts_ready = false;
	if (cmd->sub)
		return group_run(c, cmd, argc, argv);
	return cmd->run(c, argc, argv);
}
