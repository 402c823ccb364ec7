/*
 * record_out.c - how `peergraph` shows a record: as JSON (the shape doc/cli.md documents and
 * `record add --from` reads back), as a block of fields (record get), and as a row of the
 * streaming record table (record list, record search, record watch).
 *
 * A payload is bytes. In JSON it is "payload" (a string) when the bytes are UTF-8 without a
 * NUL, else "payload_b64" (base64), so a text payload stays readable and any payload
 * survives a round trip. For a person it is shown escaped and cut short: control characters
 * and bytes that are not UTF-8 as \n, \t, \xNN, so a record cannot write to the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	ROW_CREATOR_MAX = 64,	  /* characters of a creator shown in a table row */
	FIELD_TEXT_MAX = 2048,	  /* characters of a field (a creator, a string attribute) */
	BLOCK_PAYLOAD_MAX = 4096, /* characters of a payload shown by record get */
};

/* Writes len bytes of s to out as printable text (at most cap - 1 bytes, "..." when cut). */
static void escaped(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	while (i < len) {
		unsigned char b = (unsigned char)s[i];
		char tmp[8];
		size_t n = 1, tl;

		if (b >=
		    0x80) { /* a whole UTF-8 sequence passes as it is, one byte of a bad one not */
			n = (b & 0xe0) == 0xc0	 ? 2
			    : (b & 0xf0) == 0xe0 ? 3
			    : (b & 0xf8) == 0xf0 ? 4
						 : 1;
			if (i + n > len || !cli_utf8_valid(s + i, n))
				n = 1;
		}
		if (b == '\n' || b == '\t' || b == '\\')
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\%c",
					      b == '\n'	  ? 'n'
					      : b == '\t' ? 't'
							  : '\\');
		else if (b < 0x20 || b == 0x7f || (b >= 0x80 && n == 1))
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", b);
		else
			memcpy(tmp, s + i, tl = n);
		if (o + tl + 4 > cap) {
			memcpy(out + o, "...", 4);
			return;
		}
		memcpy(out + o, tmp, tl);
		o += tl;
		i += n;
	}
	out[o] = '\0';
}

/* An attribute's value as the search language writes it: 42, "Bern", date(2024-01-01T...Z). */
static void attr_format(const struct peergraph_attr *a, char *out, size_t cap)
{
	char t[CLI_TIME_SIZE];

	switch (a->type) {
	case PEERGRAPH_ATTR_INT:
		snprintf(out, cap, "%lld", (long long)a->i);
		break;
	case PEERGRAPH_ATTR_DATE:
		cli_time_format(a->date, a->date % 1000000 != 0, t);
		snprintf(out, cap, "date(%s)", t);
		break;
	case PEERGRAPH_ATTR_STRING:
		out[0] = '"'; /* the text escaped between quotes, both always there */
		escaped(a->str, strlen(a->str), out + 1, cap - 2);
		strcat(out, "\"");
		break;
	default:
		snprintf(out, cap, "(type %d)", (int)a->type);
	}
}

/* ---- JSON ------------------------------------------------------------------------------ */

static json_t *json_time(uint64_t us)
{
	char t[CLI_TIME_SIZE];

	cli_time_format(us, true, t);
	return json_string(t);
}

static json_t *json_guid(const struct peergraph_guid *g)
{
	char s[37];

	peergraph_guid_format(g, s);
	return json_string(s);
}

static json_t *json_attr(const struct peergraph_attr *a)
{
	switch (a->type) {
	case PEERGRAPH_ATTR_INT:
		return json_integer(a->i);
	case PEERGRAPH_ATTR_STRING:
		return json_string(a->str);
	case PEERGRAPH_ATTR_DATE:
		return json_pack("{s:o}", "date", json_time(a->date));
	default:
		return json_null();
	}
}

/* The payload under "payload" (text) or "payload_b64". */
static void json_payload(json_t *o, const void *p, size_t len)
{
	char *b64;

	if (cli_utf8_valid(p, len) && !memchr(p, 0, len)) {
		cli_json_set(o, "payload", json_stringn(p, len));
		return;
	}
	b64 = malloc(len / 3 * 4 + 5);
	if (!b64) {
		cli_json_set(o, "payload_b64", NULL);
		return;
	}
	cli_b64_encode(p, len, b64);
	cli_json_set(o, "payload_b64", json_string(b64));
	free(b64);
}

json_t *cli_json_record(const struct peergraph_record *r)
{
	json_t *o = json_object(), *attrs = json_object();

	cli_json_set(o, "id", json_guid(&r->id));
	cli_json_set(o, "type", json_guid(&r->type));
	cli_json_set(o, "creator", json_string(r->creator));
	cli_json_set(o, "modifier", json_string(r->modifier));
	cli_json_set(o, "version", json_integer(r->version));
	cli_json_set(o, "created", json_time(r->created_us));
	cli_json_set(o, "modified", json_time(r->modified_us));
	cli_json_set(o, "expires", json_time(r->expires_us));
	cli_json_set(o, "deleted", json_boolean(r->flags & PEERGRAPH_RECORD_DELETED));
	cli_json_set(o, "auto_refresh", json_boolean(r->flags & PEERGRAPH_RECORD_AUTO_REFRESH));
	cli_json_set(o, "signed", json_boolean(r->is_signed));
	for (unsigned i = 0; i < r->nattrs; i++)
		cli_json_set(attrs, r->attrs[i].name, json_attr(&r->attrs[i]));
	cli_json_set(o, "attrs", attrs);
	json_payload(o, r->payload, r->payload_len);
	return o;
}

/* ---- text ------------------------------------------------------------------------------ */

/* "DAS": deleted, auto-refresh, signed; "-" for each that is not. */
static void flags_text(const struct peergraph_record *r, char out[4])
{
	out[0] = r->flags & PEERGRAPH_RECORD_DELETED ? 'D' : '-';
	out[1] = r->flags & PEERGRAPH_RECORD_AUTO_REFRESH ? 'A' : '-';
	out[2] = r->is_signed ? 'S' : '-';
	out[3] = '\0';
}

void cli_record_print(const struct peergraph_record *r)
{
	char id[37], type[37], t[CLI_TIME_SIZE], text[BLOCK_PAYLOAD_MAX], value[FIELD_TEXT_MAX];

	peergraph_guid_format(&r->id, id);
	peergraph_guid_format(&r->type, type);
	printf("id:          %s\n", id);
	printf("type:        %s\n", type);
	escaped(r->creator, strlen(r->creator), text, sizeof(text));
	printf("creator:     %s\n", text);
	escaped(r->modifier, strlen(r->modifier), text, sizeof(text));
	printf("modifier:    %s\n", text[0] ? text : "- (never updated)");
	printf("version:     %u\n", r->version);
	cli_time_format(r->created_us, false, t);
	printf("created:     %s\n", t);
	cli_time_format(r->modified_us, false, t);
	printf("modified:    %s\n", t);
	cli_time_format(r->expires_us, false, t);
	printf("expires:     %s\n", t);
	printf("deleted:     %s\n", r->flags & PEERGRAPH_RECORD_DELETED ? "yes" : "no");
	printf("signed:      %s\n", r->is_signed ? "yes" : "no");
	for (unsigned i = 0; i < r->nattrs; i++) {
		attr_format(&r->attrs[i], value, sizeof(value));
		printf("%-13s%s = %s\n", i ? "" : "attributes:", r->attrs[i].name, value);
	}
	escaped(r->payload, r->payload_len, text, sizeof(text));
	printf("payload:     %zu bytes%s%s\n", r->payload_len, r->payload_len ? ": " : "", text);
}

void cli_record_row_header(void)
{
	printf("%-36s  %-36s  %5s  %-20s  %-20s  %8s  %-5s  %s\n", "ID", "TYPE", "VER", "MODIFIED",
	       "EXPIRES", "BYTES", "FLAGS", "CREATOR");
}

void cli_record_row(const struct peergraph_record *r)
{
	char id[37], type[37], mod[CLI_TIME_SIZE], exp[CLI_TIME_SIZE], flags[4];
	char creator[ROW_CREATOR_MAX + 4];

	peergraph_guid_format(&r->id, id);
	peergraph_guid_format(&r->type, type);
	cli_time_format(r->modified_us, false, mod);
	cli_time_format(r->expires_us, false, exp);
	flags_text(r, flags);
	escaped(r->creator, strlen(r->creator), creator, sizeof(creator));
	printf("%-36s  %-36s  %5u  %-20s  %-20s  %8zu  %-5s  %s\n", id, type, r->version, mod, exp,
	       r->payload_len, flags, creator);
}
