/*
 * config_write.c - peergraphd's configuration written as a file: a whole configuration
 * (peergraphd --print-config) and the documented example (doc/peergraphd.conf.example). Both
 * come from the key table, with each key's help, bounds, default and whether SIGHUP changes
 * it, so neither can drift from what the parser accepts; the unit test holds the checked-in
 * example to this output.
 */
#include <errno.h>
#include <string.h>

#include "config_keys.h"
#include "pg_assert.h"

static const char example_head[] =
    "# peergraphd.conf - the settings of peergraphd, the peergraph daemon.\n"
    "#\n"
    "# peergraphd reads its configuration file when it starts and again on SIGHUP, when the\n"
    "# settings marked \"reloadable\" take effect; the others need a restart. Overrides on its\n"
    "# command line (section.key=value) win over the file, at reloads too.\n"
    "#\n"
    "# Syntax: a [section] line, then \"key = value\" lines; whitespace around keys and values\n"
    "# is trimmed. A comment is a line that starts with '#' or ';', or the end of a line from\n"
    "# \" ;\" on. Sizes are bytes with an optional K, M, G or T suffix (powers of 1024);\n"
    "# booleans are true, false, yes, no, on, off, 1 or 0. Paths and names are printable ASCII\n"
    "# without spaces.\n"
    "#\n"
    "# The file is strict: an unknown section or key, a key or section given twice, an empty\n"
    "# value (socket_group, address and node_id excepted), a value out of its bounds, or a\n"
    "# line longer than 4352 bytes stops the daemon at start with a message that names the\n"
    "# line and the key, and makes a reload change nothing. The file may hold at most 1 MiB\n"
    "# and must not be writable by others.\n"
    "#\n"
    "# Every key below is set to its default. This file is generated from the daemon's table\n"
    "# of keys (meson compile -C build config-example).\n";

static const char print_head[] =
    "# peergraphd configuration: every setting (peergraphd --print-config).\n";

/* The example's node_name, commented out: its default depends on the host. */
static const char example_node[] = "# node_name = 0.node1\n";

static void write_comment(FILE *f, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		fprintf(f, "# %.*s\n", (int)n, text);
		text += n + (nl != NULL);
	}
}

static void write_key(FILE *f, const struct pgd_key *k, const struct pgd_config *c,
		      const struct pgd_config *def, bool example)
{
	char allowed[256], value[PGD_VALUE_SIZE];

	fputc('\n', f);
	write_comment(f, k->help);
	pgd_key_allowed(k, allowed, sizeof(allowed));
	fprintf(f, "# allowed: %s\n", allowed);
	if (k->type == PGD_KEY_NODE)
		snprintf(value, sizeof(value), "0.<host name>");
	else
		pgd_key_format(k, def, value, sizeof(value));
	fprintf(f, "# default: %s; %s\n", value[0] ? value : "empty",
		k->reloadable ? "reloadable" : "needs a restart");
	if (example && k->type == PGD_KEY_NODE) {
		fputs(example_node, f);
		return;
	}
	pgd_key_format(k, c, value, sizeof(value));
	if (value[0])
		fprintf(f, "%s = %s\n", k->name, value);
	else
		fprintf(f, "%s =\n", k->name);
}

static int write_all(FILE *f, const char *head, const struct pgd_config *c, bool example)
{
	struct pgd_config def;

	pgd_config_default(&def);
	fputs(head, f);
	for (int sec = 0; sec < PGD_SEC_COUNT; sec++) {
		fprintf(f, "\n[%s]\n", pgd_section_names[sec]);
		write_comment(f, pgd_section_help[sec]);
		for (size_t i = 0; i < PGD_KEY_TOTAL; i++)
			if (pgd_keys[i].section == (enum pgd_section)sec)
				write_key(f, &pgd_keys[i], c, &def, example);
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}

int pgd_config_write(const struct pgd_config *c, FILE *f)
{
	return write_all(f, print_head, c, false);
}

int pgd_config_write_example(FILE *f)
{
	struct pgd_config def;

	pgd_config_default(&def);
	return write_all(f, example_head, &def, true);
}
