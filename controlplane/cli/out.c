/*
 * out.c - output of `peergraph`: JSON documents (jansson) and aligned text tables.
 *
 * JSON is written compact, one document a line, with its keys in the order the command set
 * them (jansson keeps insertion order), so the output is stable from run to run and a JSON
 * lines stream can be cut at newlines. Tables are for bounded lists (identities, graphs):
 * they collect their rows to size the columns; the record list, which can be millions of
 * rows, streams with fixed-width columns instead (record_out.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	TABLE_COLS_MAX = 8,
	TABLE_ROWS_MAX = 1 << 20, /* far above any list the daemon keeps (graphs, identities) */
};

/* A JSON document that could not be built whole: jansson returns NULL on allocation failure,
 * and cli_json_set marks the object so that half a document is never printed. */
static const char incomplete_key[] = "\x01incomplete";

void cli_json_set(json_t *obj, const char *key, json_t *val)
{
	if (!obj)
		return;
	if (!val || json_object_set_new(obj, key, val))
		json_object_set_new(obj, incomplete_key, json_true());
}

int cli_json_print(struct cli *c, json_t *doc)
{
	int err;

	if (!doc || json_object_get(doc, incomplete_key)) {
		json_decref(doc);
		fprintf(stderr,
			"%s: cannot build the JSON output (out of memory, or text that is "
			"not UTF-8)\n",
			c->cmd);
		return CLI_EXIT_FAILED;
	}
	err = json_dumpf(doc, stdout, JSON_COMPACT);
	json_decref(doc);
	if (err || putchar('\n') == EOF) {
		fprintf(stderr, "%s: writing the JSON output: %s\n", c->cmd, strerror(errno));
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

json_t *cli_json_graph_status(const struct peergraph_graph_status *st, bool with_count)
{
	json_t *o = json_object();

	cli_json_set(o, "graph", json_string(st->graph_id));
	cli_json_set(o, "open", json_boolean(st->status & PEERGRAPH_GRAPH_OPEN));
	cli_json_set(o, "secured", json_boolean(st->status & PEERGRAPH_GRAPH_SECURED));
	cli_json_set(o, "listening", json_boolean(st->status & PEERGRAPH_GRAPH_LISTENING));
	cli_json_set(o, "identity", st->identity[0] ? json_string(st->identity) : json_null());
	if (with_count) {
		cli_json_set(o, "records", json_integer((json_int_t)st->records));
		cli_json_set(o, "max_record_size", json_integer(st->max_record_size));
		cli_json_set(o, "links", json_integer(st->links));
	}
	return o;
}

/* ---- tables ---------------------------------------------------------------------------- */

struct cli_table {
	unsigned ncols, nrows, cap;
	bool failed; /* a row could not be added */
	size_t width[TABLE_COLS_MAX];
	char **cells; /* nrows x ncols, row 0 the headers */
};

/* Display width of UTF-8 text: its code points (wide characters are rare in these lists). */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

struct cli_table *cli_table_create(unsigned ncols, const char *const *headers)
{
	struct cli_table *t;

	if (ncols == 0 || ncols > TABLE_COLS_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	cli_table_row(t, headers);
	return t;
}

/* Adds a row. 0, or -ENOSPC / -ENOMEM with nothing added. */
static int row_add(struct cli_table *t, const char *const *cells)
{
	if (t->nrows >= TABLE_ROWS_MAX)
		return -ENOSPC;
	if (t->nrows == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, (size_t)cap * t->ncols * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		t->cells = grown;
		t->cap = cap;
	}
	for (unsigned i = 0; i < t->ncols; i++) {
		char *copy = strdup(cells[i] ? cells[i] : "");

		if (!copy) {
			while (i--)
				free(t->cells[(size_t)t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[(size_t)t->nrows * t->ncols + i] = copy;
		if (text_width(copy) > t->width[i])
			t->width[i] = text_width(copy);
	}
	t->nrows++;
	return 0;
}

void cli_table_row(struct cli_table *t, const char *const *cells)
{
	if (t && !t->failed && row_add(t, cells))
		t->failed = true;
}

static void table_print(const struct cli_table *t)
{
	for (unsigned r = 0; r < t->nrows; r++) {
		char *const *row = &t->cells[(size_t)r * t->ncols];
		unsigned last = t->ncols - 1;

		while (last > 0 && !row[last][0])
			last--; /* no padding out to empty cells: no trailing blanks */
		for (unsigned i = 0; i < last; i++) /* by display width: %-*s counts bytes */
			printf("%s%*s  ", row[i], (int)(t->width[i] - text_width(row[i])), "");
		printf("%s\n", row[last]);
	}
}

int cli_table_finish(struct cli *c, struct cli_table *t)
{
	bool whole = t && !t->failed;

	if (whole)
		table_print(t);
	for (size_t i = 0; t && i < (size_t)t->nrows * t->ncols; i++)
		free(t->cells[i]);
	if (t)
		free(t->cells);
	free(t);
	return whole ? CLI_EXIT_OK : cli_local_fail(c, "out of memory for the table");
}
