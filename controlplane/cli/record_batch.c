/*
 * record_batch.c - `peergraph record add GRAPH --from FILE`: the batch loader. Reads records
 * as JSON lines, sends them in batches (one library call, one or a few round trips each), and
 * ends with a summary: records added, failures grouped by error, lines skipped, the rate.
 *
 * HOW IT WORKS
 *
 * Lines are read by a bounded reader (a line longer than LINE_MAX is an error, not an
 * allocation without end) and parsed with jansson; each parsed record keeps its JSON
 * document alive until its batch is sent, since the record's strings (attribute names and
 * values, a text payload) point into it. A batch is sent when it holds --batch records or
 * BATCH_BYTES_MAX bytes of payload and attributes, whichever comes first, so memory stays
 * bounded whatever the input.
 *
 * The library answers a batch with one result per record. A record the daemon refuses (too
 * large, expired, ...) is counted under its error code with the first line that had it. A
 * record refused with -EBUSY (the daemon's queues are full) is sent again with the next
 * try, up to BUSY_TRIES tries with a doubling pause; what is still busy then counts as
 * failed. An error of the whole call (the graph is closed, not found, the daemon went away)
 * stops the load: what was added before stays added, and the summary says where it stopped.
 *
 * LIMITATIONS: the records of one batch are added in order, but a record retried after -EBUSY
 * is added after the ones that were not busy; ids given twice in one file are two adds of the
 * same record (the second is refused as a duplicate by the daemon).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum {
	LINE_MAX_BYTES = 96 << 20,		/* a 60 MiB payload in base64 and its attributes */
	READ_CHUNK = 1 << 20,			/* bytes read from the input at a time */
	BATCH_BYTES_MAX = 32 << 20,		/* payload and attribute bytes of one batch */
	BUSY_TRIES = 8,				/* sends of a batch's busy records */
	BUSY_PAUSE_MS = 50,			/* the first pause; it doubles */
	CODES_MAX = 64,				/* distinct error codes kept for the summary */
	SHOWN_MAX = 10,				/* failures told one by one on stderr */
	PAYLOAD_JSON_MAX = CLI_RECORD_SIZE_MAX, /* a record holds no more */
};

/* ---- the line reader ------------------------------------------------------------------- */

struct reader {
	int fd;
	char *buf;
	size_t cap, start, end; /* unread bytes: buf[start, end) */
	bool eof;
};

/* The next line (without its newline, NUL-terminated in place) into *line / *len: 1, 0 at
 * the end of input, -EFBIG for a line over LINE_MAX_BYTES, or -errno. */
static int reader_next(struct reader *r, char **line, size_t *len)
{
	size_t scanned = 0;
	ssize_t n;

	for (;;) {
		char *nl = NULL, *at;

		if (r->end > r->start + scanned)
			nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		if (nl || (r->eof && r->end > r->start)) {
			at = nl ? nl : r->buf + r->end;
			*at = '\0'; /* the buffer keeps a byte of room past end for this */
			*line = r->buf + r->start;
			*len = (size_t)(at - *line);
			r->start = (size_t)(at - r->buf) + (nl != NULL);
			return 1;
		}
		if (r->eof)
			return 0;
		scanned = r->end - r->start;
		if (scanned > LINE_MAX_BYTES)
			return -EFBIG;
		if (r->start > 0) { /* move the partial line to the front */
			memmove(r->buf, r->buf + r->start, scanned);
			r->end = scanned;
			r->start = 0;
		}
		if (r->cap - r->end < READ_CHUNK + 1) {
			char *grown = realloc(r->buf, r->cap + READ_CHUNK + 1);

			if (!grown)
				return -ENOMEM;
			r->buf = grown;
			r->cap += READ_CHUNK + 1;
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		r->eof = n == 0;
		r->end += (size_t)n;
	}
}

/* ---- the batch ------------------------------------------------------------------------- */

/* What one record of a batch holds on to until it is sent. */
struct pending {
	json_t *doc;
	struct peergraph_attr *attrs;
	uint8_t *bin; /* a payload_b64's bytes */
	long line;
};

struct code_count {
	int code;
	uint64_t count;
	long first_line;
};

struct batch {
	struct cli *c;
	const struct cli_batch_opts *o;
	struct pending *p;
	struct peergraph_record *recs;
	int *results;
	size_t n, bytes;
	/* the summary */
	long lines;
	uint64_t added, failed, skipped, not_sent;
	struct code_count codes[CODES_MAX];
	unsigned ncodes;
	uint64_t shown;
	double t0;
	/* where and why it stopped early: exit status, code, message */
	long stop_line;
	int stop_exit, stop_code;
	char stop_msg[1024];
};

static void pending_free(struct pending *p)
{
	json_decref(p->doc);
	free(p->attrs);
	free(p->bin);
	memset(p, 0, sizeof(*p));
}

/* Counts a failed record under its code, and tells the first few on stderr. */
static void count_failure(struct batch *b, int code, long line)
{
	unsigned i;

	b->failed++;
	for (i = 0; i < b->ncodes && b->codes[i].code != code; i++)
		;
	if (i == b->ncodes && b->ncodes < CODES_MAX)
		b->codes[b->ncodes++] = (struct code_count){ code, 0, line };
	if (i < b->ncodes)
		b->codes[i].count++;
	if (b->shown++ < SHOWN_MAX)
		fprintf(stderr, "%s: line %ld: %s\n", b->c->cmd, line, peergraph_strerror(code));
	else if (b->shown == SHOWN_MAX + 1)
		fprintf(stderr, "%s: (more failures are counted in the summary only)\n", b->c->cmd);
}

/* Sends the batch, again for its busy records, and counts the outcomes. 0, or -1 when the
 * load must stop (b->stop_* set). */
static int batch_send(struct batch *b)
{
	unsigned pause = BUSY_PAUSE_MS;
	int err = 0;

	for (int tries = 0; b->n && tries < BUSY_TRIES; tries++) {
		size_t busy = 0;
		long r;

		if (tries) {
			struct timespec ts = { 0, (long)pause * 1000000 };

			nanosleep(&ts, NULL);
			pause = pause * 2 > 1000 ? 1000 : pause * 2;
		}
		r = peergraph_record_add(b->c->pg, b->o->graph, b->recs, b->n, b->results);
		if (r < 0 && r != -EBUSY) {
			err = (int)r;
			break;
		}
		/* the busy ones move to the front, to be sent again; the rest are done */
		for (size_t i = 0; i < b->n; i++) {
			int res = r < 0 ? (int)r : b->results[i];

			if (res == -EBUSY) {
				b->recs[busy] = b->recs[i];
				struct pending keep = b->p[i];

				b->p[i] = b->p[busy];
				b->p[busy++] = keep;
				continue;
			}
			if (res == 0)
				b->added++;
			else
				count_failure(b, res, b->p[i].line);
		}
		for (size_t i = busy; i < b->n; i++)
			pending_free(&b->p[i]);
		b->n = busy;
	}
	for (size_t i = 0; i < b->n; i++) { /* still busy after every try, or never answered */
		if (err)
			b->not_sent++; /* the call failed as a whole: "stopped" says why */
		else
			count_failure(b, -EBUSY, b->p[i].line);
		pending_free(&b->p[i]);
	}
	b->n = 0;
	b->bytes = 0;
	if (!err && (!b->c->pg || peergraph_fd(b->c->pg) >= 0))
		return 0;
	/* the whole call failed, or the connection is gone: stop here */
	err = err ? err : -ECONNRESET;
	b->stop_exit = cli_exit_of(b->c, err);
	b->stop_code = err;
	snprintf(b->stop_msg, sizeof(b->stop_msg), "adding to graph \"%s\": %s", b->o->graph,
		 cli_errtext(b->c, err));
	return -1;
}

/* ---- one line to one record -------------------------------------------------------------- */

/* Output fields of `record list --json` that a line may carry and that are not the adder's. */
static bool ignored_field(const char *key)
{
	static const char *const fields[] = {
		"creator",  "modifier", "version",	"created",
		"modified", "deleted",	"auto_refresh", "signed",
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(key, fields[i]) == 0)
			return true;
	return false;
}

/* A JSON time: ISO 8601 text or an integer of microseconds. */
static int json_time(json_t *v, uint64_t *us, char *why)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*us = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return cli_parse_time(json_string_value(v), us, why);
	return cli_why(why, -EINVAL, "a time is ISO 8601 text or microseconds since 1970");
}

static int line_attrs(json_t *obj, struct pending *p, struct peergraph_record *r, char *why)
{
	size_t n = json_object_size(obj), i = 0, bytes = 0;
	const char *name;
	json_t *v;

	if (n > PEERGRAPH_ATTRS_MAX)
		return cli_why(why, -EINVAL, "more than %d attrs", PEERGRAPH_ATTRS_MAX);
	p->attrs = calloc(n ? n : 1, sizeof(*p->attrs));
	if (!p->attrs)
		return cli_why(why, -ENOMEM, "out of memory");
	json_object_foreach(obj, name, v)
	{
		struct peergraph_attr *a = &p->attrs[i++];
		char inner[CLI_WHY_SIZE];

		if (cli_attr_name_check(name, strlen(name), inner))
			return cli_why(why, -EINVAL, "attrs.%.40s: %s", name, inner);
		a->name = name;
		if (json_is_integer(v)) {
			a->type = PEERGRAPH_ATTR_INT;
			a->i = json_integer_value(v);
		} else if (json_is_string(v) &&
			   strlen(json_string_value(v)) == json_string_length(v)) {
			a->type = PEERGRAPH_ATTR_STRING;
			a->str = json_string_value(v);
			bytes += json_string_length(v);
		} else if (json_is_object(v) && json_object_size(v) == 1 &&
			   json_object_get(v, "date")) {
			a->type = PEERGRAPH_ATTR_DATE;
			if (json_time(json_object_get(v, "date"), &a->date, inner))
				return cli_why(why, -EINVAL, "attrs.%s.date: %s", name, inner);
		} else {
			return cli_why(why, -EINVAL,
				       "attrs.%s: an attribute is an integer, a "
				       "string without NUL, or {\"date\": ...}",
				       name);
		}
	}
	r->attrs = p->attrs;
	r->nattrs = (unsigned)n;
	return (int)bytes;
}

/* The payload of a line: "payload" text or "payload_b64". Its length, or -EINVAL. */
static long line_payload(json_t *text, json_t *b64, struct pending *p, struct peergraph_record *r,
			 char *why)
{
	long n;

	if (text && b64)
		return cli_why(why, -EINVAL, "payload and payload_b64 exclude each other");
	if ((text && !json_is_string(text)) || (b64 && !json_is_string(b64)))
		return cli_why(why, -EINVAL, "a payload is a string");
	if (text) {
		r->payload = json_string_value(text);
		r->payload_len = json_string_length(text);
	} else if (b64) {
		size_t len = json_string_length(b64);

		if (len / 4 * 3 > PAYLOAD_JSON_MAX)
			return cli_why(why, -EINVAL,
				       "payload_b64 is larger than a record "
				       "can be (60M)");
		p->bin = malloc(len / 4 * 3 + 1);
		if (!p->bin)
			return cli_why(why, -ENOMEM, "out of memory");
		n = cli_b64_decode(json_string_value(b64), len, p->bin);
		if (n < 0)
			return cli_why(why, -EINVAL,
				       "payload_b64 is not base64 (RFC 4648, "
				       "padded)");
		r->payload = p->bin;
		r->payload_len = (size_t)n;
	}
	return (long)r->payload_len;
}

/* The expiry of a line: "expires_in" seconds or "expires" an absolute time. */
static int line_expiry(json_t *in, json_t *at, struct peergraph_record *r, char *why)
{
	if (in && at)
		return cli_why(why, -EINVAL, "expires_in and expires exclude each other");
	if (in) {
		json_int_t s = json_is_integer(in) ? json_integer_value(in) : 0;

		if (s < 1 || s > CLI_LIFETIME_MAX_S)
			return cli_why(why, -EINVAL,
				       "expires_in is whole seconds from 1 to "
				       "%d",
				       CLI_LIFETIME_MAX_S);
		r->expires_us = cli_now_us() + (uint64_t)s * 1000000;
	}
	if (at && json_time(at, &r->expires_us, why))
		return -EINVAL;
	return 0;
}

/* The fields a line may give, found by name. */
struct line_fields {
	json_t *type, *id, *payload, *payload_b64, *attrs, *expires_in, *expires;
};

static json_t **line_field(struct line_fields *f, const char *key)
{
	static const struct {
		const char *key;
		size_t at;
	} names[] = {
		{ "type", offsetof(struct line_fields, type) },
		{ "id", offsetof(struct line_fields, id) },
		{ "payload", offsetof(struct line_fields, payload) },
		{ "payload_b64", offsetof(struct line_fields, payload_b64) },
		{ "attrs", offsetof(struct line_fields, attrs) },
		{ "expires_in", offsetof(struct line_fields, expires_in) },
		{ "expires", offsetof(struct line_fields, expires) },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(key, names[i].key) == 0)
			return (json_t **)((char *)f + names[i].at);
	return NULL;
}

/* Parses a line into the next record of the batch. 0, or -EINVAL with why filled. */
static int line_parse(struct batch *b, const char *text, size_t len, char *why)
{
	struct pending *p = &b->p[b->n];
	struct peergraph_record *r = &b->recs[b->n];
	struct line_fields f = { 0 };
	json_error_t jerr;
	const char *key;
	json_t *doc, *v, **slot;
	long plen;
	int abytes;

	memset(r, 0, sizeof(*r));
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!doc)
		return cli_why(why, -EINVAL, "not JSON: %s (column %d)", jerr.text, jerr.column);
	p->doc = doc;
	if (!json_is_object(doc))
		return cli_why(why, -EINVAL, "a line is a JSON object");
	json_object_foreach(doc, key, v)
	{
		if ((slot = line_field(&f, key)))
			*slot = v;
		else if (!ignored_field(key))
			return cli_why(why, -EINVAL, "unknown field \"%.64s\"", key);
	}
	if (!f.type || !json_is_string(f.type))
		return cli_why(why, -EINVAL, "\"type\" (a GUID string) is required");
	if (cli_parse_guid(json_string_value(f.type), &r->type, why))
		return cli_why(why, -EINVAL, "\"type\" is not a GUID: 8-4-4-4-12 hex digits");
	if (f.id && (!json_is_string(f.id) || cli_parse_guid(json_string_value(f.id), &r->id, why)))
		return cli_why(why, -EINVAL, "\"id\" is not a GUID: 8-4-4-4-12 hex digits");
	if (f.attrs && !json_is_object(f.attrs))
		return cli_why(why, -EINVAL, "\"attrs\" is an object");
	if ((abytes = f.attrs ? line_attrs(f.attrs, p, r, why) : 0) < 0)
		return -EINVAL;
	if ((plen = line_payload(f.payload, f.payload_b64, p, r, why)) < 0 ||
	    line_expiry(f.expires_in, f.expires, r, why))
		return -EINVAL;
	b->bytes += (size_t)plen + (size_t)abytes;
	return 0;
}

/* ---- the load and its summary ------------------------------------------------------------ */

static int summary_json(struct batch *b, double secs)
{
	json_t *codes = json_array(), *doc = json_object();

	for (unsigned i = 0; i < b->ncodes; i++)
		json_array_append_new(codes,
				      json_pack("{s:i, s:s, s:I, s:I}", "code", b->codes[i].code,
						"message", peergraph_strerror(b->codes[i].code),
						"count", (json_int_t)b->codes[i].count,
						"first_line", (json_int_t)b->codes[i].first_line));
	cli_json_set(doc, "graph", json_string(b->o->graph));
	cli_json_set(doc, "lines", json_integer(b->lines));
	cli_json_set(doc, "added", json_integer((json_int_t)b->added));
	cli_json_set(doc, "failed", json_integer((json_int_t)b->failed));
	cli_json_set(doc, "skipped", json_integer((json_int_t)b->skipped));
	cli_json_set(doc, "not_sent", json_integer((json_int_t)b->not_sent));
	cli_json_set(doc, "seconds", json_real(secs));
	cli_json_set(doc, "records_per_second", json_real(secs > 0 ? (double)b->added / secs : 0));
	cli_json_set(doc, "failures", codes);
	cli_json_set(doc, "stopped",
		     b->stop_exit ? json_pack("{s:I, s:i, s:i, s:s}", "line",
					      (json_int_t)b->stop_line, "exit", b->stop_exit,
					      "code", b->stop_code, "message", b->stop_msg)
				  : json_null());
	return cli_json_print(b->c, doc);
}

static void summary_text(const struct batch *b, double secs)
{
	printf("added %llu of %ld lines in %.2f s (%.0f records/s)", (unsigned long long)b->added,
	       b->lines, secs, secs > 0 ? (double)b->added / secs : 0.0);
	if (b->skipped)
		printf(", %llu malformed lines skipped", (unsigned long long)b->skipped);
	if (b->not_sent)
		printf(", %llu not sent", (unsigned long long)b->not_sent);
	if (b->failed)
		printf(", %llu failed:\n", (unsigned long long)b->failed);
	else
		printf("\n");
	for (unsigned i = 0; i < b->ncodes; i++)
		printf("  %8llu  %-6d  %s (first at line %ld)\n",
		       (unsigned long long)b->codes[i].count, b->codes[i].code,
		       peergraph_strerror(b->codes[i].code), b->codes[i].first_line);
	if (b->stop_exit)
		printf("stopped at line %ld: %s\n", b->stop_line, b->stop_msg);
}

/* Reads, parses and sends every line. Returns with b->stop_* set when it stopped early. */
/* Stops the load at a line of the input: what is wrong with it (exit status 2). */
static void stop_input(struct batch *b, long line, int code, const char *why)
{
	b->stop_exit = CLI_EXIT_USAGE;
	b->stop_code = code;
	b->stop_line = line;
	snprintf(b->stop_msg, sizeof(b->stop_msg), "%s", why);
	fprintf(stderr, "%s: %s: line %ld: %s\n", b->c->cmd, b->o->from, line, why);
}

static void load(struct batch *b, struct reader *rd)
{
	char why[CLI_WHY_SIZE], *line = NULL;
	size_t len = 0;
	int got, err;

	while ((got = reader_next(rd, &line, &len)) == 1) {
		b->lines++;
		if (len == strspn(line, " \t\r"))
			continue; /* a blank line */
		if (memchr(line, '\0', len))
			err = cli_why(why, -EINVAL, "a NUL byte in the line");
		else
			err = line_parse(b, line, len, why);
		if (err) {
			pending_free(&b->p[b->n]);
			if (!b->o->keep_going) {
				stop_input(b, b->lines, err, why);
				break;
			}
			b->skipped++;
			fprintf(stderr, "%s: %s: line %ld skipped: %s\n", b->c->cmd, b->o->from,
				b->lines, why);
			continue;
		}
		b->p[b->n++].line = b->lines;
		if ((b->n == b->o->batch || b->bytes >= BATCH_BYTES_MAX) && batch_send(b)) {
			b->stop_line = b->lines;
			return;
		}
	}
	if (got < 0) {
		snprintf(why, sizeof(why), "cannot read it: %s",
			 got == -EFBIG ? "longer than 96 MiB" : strerror(-got));
		stop_input(b, b->lines + 1, got, why);
	}
	/* the records before a bad line are added, as the help says */
	if (batch_send(b))
		b->stop_line = b->lines;
}

static int run(struct batch *b, struct reader *rd)
{
	double secs;

	b->t0 = cli_mono_s();
	load(b, rd);
	secs = cli_mono_s() - b->t0;
	if (b->stop_exit && b->stop_exit != CLI_EXIT_USAGE)
		fprintf(stderr, "%s: %s\n", b->c->cmd, b->stop_msg);
	if (b->c->json && summary_json(b, secs))
		return CLI_EXIT_FAILED;
	if (!b->c->json)
		summary_text(b, secs);
	if (b->stop_exit)
		return b->stop_exit;
	/* refused only for a full flood queue: the whole of it can be sent again later */
	if (b->failed && !b->skipped && b->ncodes == 1 && b->codes[0].code == PEERGRAPH_E_BUSY)
		return CLI_EXIT_BUSY;
	return b->failed || b->skipped ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

int cli_record_add_batch(struct cli *c, const struct cli_batch_opts *o)
{
	struct reader rd = { .fd = STDIN_FILENO };
	struct batch b = { .c = c, .o = o };
	int status;

	if (strcmp(o->from, "-") != 0) {
		rd.fd = open(o->from, O_RDONLY | O_CLOEXEC);
		if (rd.fd < 0)
			return cli_usage(c, "--from %s: %s", o->from, strerror(errno));
	}
	b.p = calloc(o->batch, sizeof(*b.p));
	b.recs = calloc(o->batch, sizeof(*b.recs));
	b.results = calloc(o->batch, sizeof(*b.results));
	if (!b.p || !b.recs || !b.results)
		status = cli_local_fail(c, "out of memory for a batch of %u", o->batch);
	else if (!(status = cli_connect(c)))
		status = run(&b, &rd);
	if (rd.fd != STDIN_FILENO)
		close(rd.fd);
	free(rd.buf);
	free(b.p);
	free(b.recs);
	free(b.results);
	return status;
}
