/*
 * config.c - peergraphd's configuration: reading files through inih, command-line overrides,
 * writing the configuration back as a file, and what a reload changes. The keys, their bounds
 * and their values' text are in config_keys.c.
 *
 * HOW A FILE IS READ
 *
 * inih does the syntax: sections, "key = value", comments, trimming. It calls our handler
 * once per key, and takes its lines from a reader we give it (ini_parse_stream); the reader
 * is where the rest is done:
 *   - it counts lines, so that every message has its line number (whether Debian's library
 *     passes one to the handler is fixed when the library is built, INI_HANDLER_LINENO, and
 *     ini.h cannot tell us which);
 *   - it refuses a line longer than PGD_CONFIG_LINE_MAX, which inih would silently cut at
 *     its buffer (200 bytes by default) and read the rest as a line of its own, and a NUL,
 *     which would silently end the line;
 *   - it checks each "[section]" line: inih shows a section only with a key under it, so an
 *     unknown or repeated section without keys would otherwise pass.
 * The handler checks the key (known, not given before) and sets its value into a copy of the
 * caller's configuration, which replaces it only when the whole file was read without error.
 *
 * Debian's inih takes its options as process globals (ini.h: ini_max_line,
 * ini_allow_multiline, ...). Each parse sets the ones this syntax depends on under a lock and
 * then puts the previous values back: no multi-line values (with them, an indented
 * "key = value" line continues the value of the key before it), stop at the first error,
 * comments as documented in config.h, and a line buffer of PGD_CONFIG_LINE_MAX + 3 bytes
 * (inih's: room for "\r\n" and the NUL; it is on the stack of the parse).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_keys.h"
#include "pg_assert.h"
#include "pg_error.h"

#define PRINTF(f, a) __attribute__((format(printf, f, a)))

struct parse {
	struct pgd_config next; /* the caller's configuration, then what the file sets */
	const char *name;	/* for messages */
	const char *text;
	size_t len, pos;
	uint32_t lineno;		      /* of the line inih works on */
	uint32_t key_line[PGD_KEY_TOTAL];     /* line that set each key; 0: not set */
	uint32_t section_line[PGD_SEC_COUNT]; /* line of each section's header; 0: none */
	char *err;
	size_t errlen;
	bool failed;
};

static pthread_mutex_t ini_lock = PTHREAD_MUTEX_INITIALIZER;
static char start_comments[] = ";#", inline_comments[] = ";";

/* Writes "<name>: <message>" to err (cut to errlen). */
static void PRINTF(4, 5) say(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!errlen)
		return;
	n = snprintf(err, errlen, "%s: ", name);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Records the first error as "<name>:<line>: <message>". Returns 0, inih's "stop". */
static int PRINTF(2, 3) fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed || !p->errlen) {
		p->failed = true;
		return 0;
	}
	p->failed = true;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->lineno);
	if (n < 0 || (size_t)n >= p->errlen)
		return 0;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

/* Checks a "[section]" line as inih will read it: the name is what lies between '[' and the
 * first ']' (untrimmed), and only a comment may follow. */
static void check_section(struct parse *p, const char *line)
{
	char name[32], q[PGD_QUOTE_MAX + 4], list[128];
	const char *s = line, *end, *t;
	size_t n;
	int sec;

	if (p->lineno == 1 && !strncmp(s, "\xef\xbb\xbf", 3)) /* inih skips a UTF-8 BOM */
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '[')
		return;
	end = strchr(s + 1, ']');
	if (!end) {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(s + 1, "\r\n"), s + 1);
		pgd_quote(name, q);
		fail(p, "[%s: '[' without ']': not a [section] line", q);
		return;
	}
	n = (size_t)(end - s - 1);
	snprintf(name, sizeof(name), "%.*s", (int)n, s + 1);
	pgd_quote(name, q);
	for (t = end + 1; isspace((unsigned char)*t); t++)
		;
	if (*t && *t != ';' && *t != '#') {
		fail(p, "[%s]: text after ']' (allowed: a comment)", q);
		return;
	}
	sec = n < sizeof(name) ? pgd_section_find(name) : -1;
	if (sec < 0) {
		pgd_section_list(list, sizeof(list));
		fail(p, "[%s]: unknown section (allowed: %s)", q, list);
	} else if (p->section_line[sec])
		fail(p, "[%s]: section given twice (first on line %u)", q, p->section_line[sec]);
	else
		p->section_line[sec] = p->lineno;
}

/* inih's fgets: the next line of the text, with its newline, into str[0..num). */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *start, *nl;
	size_t n;

	PG_ASSERT(num > 0);
	if (p->failed || p->pos >= p->len)
		return NULL;
	start = p->text + p->pos;
	nl = memchr(start, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - start) : p->len - p->pos;
	p->lineno++;
	p->pos += n + (nl != NULL);
	if (memchr(start, '\0', n)) {
		fail(p, "a NUL byte in the line");
		return NULL;
	}
	if (n > PGD_CONFIG_LINE_MAX || n + 2 > (size_t)num) {
		fail(p, "line of %zu bytes (allowed: at most %d)", n, PGD_CONFIG_LINE_MAX);
		return NULL;
	}
	memcpy(str, start, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	check_section(p, str);
	return p->failed ? NULL : str;
}

/* inih's handler: one "key = value" under section (trimmed, comment removed). */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	char q[PGD_QUOTE_MAX + 4], why[PGD_CONFIG_ERR_SIZE], list[256];
	const struct pgd_key *k;
	size_t i;
	int sec;

	pgd_quote(name, q);
	if (!section[0]) {
		pgd_section_list(list, sizeof(list));
		return fail(p, "%s: key before any [section] (allowed: %s)", q, list);
	}
	sec = pgd_section_find(section);
	PG_ASSERT(sec >= 0); /* read_line let only known sections through */
	k = pgd_key_find(sec, name);
	if (!k) {
		pgd_section_key_list(sec, list, sizeof(list));
		return fail(p, "[%s] %s: unknown key (allowed: %s)", section, q, list);
	}
	i = (size_t)(k - pgd_keys);
	if (p->key_line[i])
		return fail(p, "[%s] %s: given twice (first on line %u)", section, k->name,
			    p->key_line[i]);
	p->key_line[i] = p->lineno;
	if (pgd_key_set(k, &p->next, value, why, sizeof(why)))
		return fail(p, "[%s] %s: %s", section, k->name, why);
	return 1;
}

/* inih's options (Debian's process globals) that this syntax depends on. */
struct ini_options {
	int max_line;
	bool multiline, stop, no_value, inline_comments, stack, allow_realloc, bom;
	char *start_prefixes, *inline_prefixes;
};

#define SWAP(a, b)                                                                                 \
	do {                                                                                       \
		__typeof__(a) t_ = (a);                                                            \
		(a) = (b);                                                                         \
		(b) = t_;                                                                          \
	} while (0)

/* Exchanges inih's globals with *o: done twice, it puts them back. */
static void ini_options_swap(struct ini_options *o)
{
	SWAP(ini_max_line, o->max_line);
	SWAP(ini_allow_multiline, o->multiline);
	SWAP(ini_stop_on_first_error, o->stop);
	SWAP(ini_allow_no_value, o->no_value);
	SWAP(ini_allow_inline_comments, o->inline_comments);
	SWAP(ini_use_stack, o->stack);
	SWAP(ini_allow_realloc, o->allow_realloc);
	SWAP(ini_allow_bom, o->bom);
	SWAP(ini_start_comment_prefixes, o->start_prefixes);
	SWAP(ini_inline_comment_prefixes, o->inline_prefixes);
}

/* Runs inih over p with this file's syntax (see the top of the file). inih's answer: 0, the
 * first line it found wrong, or -2 when out of memory. */
static int run_inih(struct parse *p)
{
	struct ini_options o = {
		.max_line = PGD_CONFIG_LINE_MAX + 3,
		.multiline = false,
		.stop = true,
		.no_value = false,
		.inline_comments = true,
		.stack = true,
		.allow_realloc = false, /* one read_line call per line */
		.bom = true,
		.start_prefixes = start_comments,
		.inline_prefixes = inline_comments,
	};
	int ret;

	pthread_mutex_lock(&ini_lock);
	ini_options_swap(&o);
	ret = ini_parse_stream(read_line, p, on_key, p);
	ini_options_swap(&o);
	pthread_mutex_unlock(&ini_lock);
	return ret;
}

/* What no single key can check (pgd_config_check), once the file is read: the message names
 * the last line that set a key of the failing check, or only the file when none did. */
static int check_whole(struct parse *p)
{
	static const char *const fault_keys[] = { "drop", "duplicate", "reorder" };
	char why[PGD_CONFIG_ERR_SIZE];
	const struct pgd_key *last = NULL;

	if (!pgd_config_check(&p->next, why, sizeof(why)))
		return 0;
	for (size_t i = 0; i < PG_ARRAY_SIZE(fault_keys); i++) {
		const struct pgd_key *k = pgd_key_find(PGD_SEC_FAULT, fault_keys[i]);
		size_t at;

		PG_ASSERT(k);
		at = (size_t)(k - pgd_keys);
		if (p->key_line[at] && (!last || p->key_line[at] > p->key_line[last - pgd_keys]))
			last = k;
	}
	if (!last) {
		say(p->err, p->errlen, p->name, "[fault]: %s", why);
		return PG_E_CONFIG;
	}
	p->lineno = p->key_line[last - pgd_keys];
	fail(p, "[fault] %s: %s", last->name, why);
	return PG_E_CONFIG;
}

int pgd_config_parse(struct pgd_config *c, const char *name, const char *text, size_t len,
		     char *err, size_t errlen)
{
	struct parse p = { .name = name, .text = text, .len = len, .err = err, .errlen = errlen };
	int ret;

	PG_ASSERT(text || !len);
	if (errlen)
		err[0] = '\0';
	if (len > PGD_CONFIG_FILE_MAX) {
		say(err, errlen, name, "%zu bytes (allowed: at most %d)", len, PGD_CONFIG_FILE_MAX);
		return PG_E_CONFIG;
	}
	p.next = *c;
	ret = run_inih(&p);
	if (p.failed)
		return PG_E_CONFIG;
	if (ret < 0)
		return -ENOMEM;
	if (ret > 0) {
		p.lineno = (uint32_t)ret;
		fail(&p, "neither a [section] nor a key = value line");
		return PG_E_CONFIG;
	}
	if (check_whole(&p))
		return PG_E_CONFIG;
	*c = p.next;
	return 0;
}

int pgd_config_load(struct pgd_config *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, ret;

	if (errlen)
		err[0] = '\0';
	/* O_NONBLOCK: a FIFO in its place must not hang the daemon in open() */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		say(err, errlen, path, "cannot open: %s", strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		say(err, errlen, path, "cannot stat: %s", strerror(-ret));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		say(err, errlen, path, "not a regular file");
		goto err_close;
	}
	if (st.st_mode & S_IWOTH) {
		ret = PG_E_CONFIG;
		say(err, errlen, path,
		    "writable by others: refused, anyone could change the daemon's settings "
		    "(fix: chmod o-w)");
		goto err_close;
	}
	/* one byte more than allowed, to see a file that is too large (or grew meanwhile) */
	buf = malloc(PGD_CONFIG_FILE_MAX + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto err_close;
	}
	while (got <= PGD_CONFIG_FILE_MAX) {
		ssize_t n = read(fd, buf + got, PGD_CONFIG_FILE_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			say(err, errlen, path, "cannot read: %s", strerror(-ret));
			goto err_free;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	ret = pgd_config_parse(c, path, buf, got, err, errlen);
err_free:
	free(buf);
err_close:
	close(fd);
	return ret;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int pgd_config_set(struct pgd_config *c, const char *assignment, char *err, size_t errlen)
{
	char buf[PGD_CONFIG_LINE_MAX + 1], q[PGD_QUOTE_MAX + 4], why[PGD_CONFIG_ERR_SIZE];
	char list[256], *eq, *dot, *section, *key, *value;
	size_t n = strnlen(assignment, sizeof(buf));
	const struct pgd_key *k;
	struct pgd_config next;
	int sec;

	if (errlen)
		err[0] = '\0';
	pgd_quote(assignment, q);
	if (n == sizeof(buf)) {
		say(err, errlen, "command line", "'%s': longer than %d bytes", q,
		    PGD_CONFIG_LINE_MAX);
		return PG_E_CONFIG;
	}
	memcpy(buf, assignment, n + 1);
	eq = strchr(buf, '=');
	dot = eq ? memchr(buf, '.', (size_t)(eq - buf)) : NULL;
	if (!dot) {
		say(err, errlen, "command line", "'%s': not section.key=value", q);
		return PG_E_CONFIG;
	}
	*eq = *dot = '\0';
	section = trim(buf);
	key = trim(dot + 1);
	value = trim(eq + 1);
	sec = pgd_section_find(section);
	if (sec < 0) {
		pgd_quote(section, q);
		pgd_section_list(list, sizeof(list));
		say(err, errlen, "command line", "[%s]: unknown section (allowed: %s)", q, list);
		return PG_E_CONFIG;
	}
	k = pgd_key_find(sec, key);
	if (!k) {
		pgd_quote(key, q);
		pgd_section_key_list(sec, list, sizeof(list));
		say(err, errlen, "command line", "[%s] %s: unknown key (allowed: %s)",
		    pgd_section_names[sec], q, list);
		return PG_E_CONFIG;
	}
	next = *c;
	if (pgd_key_set(k, &next, value, why, sizeof(why)) ||
	    pgd_config_check(&next, why, sizeof(why))) {
		say(err, errlen, "command line", "[%s] %s: %s", pgd_section_names[sec], k->name,
		    why);
		return PG_E_CONFIG;
	}
	*c = next;
	return 0;
}

bool pgd_config_equal(const struct pgd_config *a, const struct pgd_config *b)
{
	for (size_t i = 0; i < PGD_KEY_TOTAL; i++)
		if (!pgd_key_equal(&pgd_keys[i], a, b))
			return false;
	return true;
}

/* Appends to log[0..loglen), keeping it NUL-terminated; *used counts what is there. */
static void PRINTF(4, 5) append(char *log, size_t loglen, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used + 1 >= loglen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(log + *used, loglen - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n < loglen ? *used + (size_t)n : loglen - 1;
}

int pgd_config_reload(struct pgd_config *cur, const struct pgd_config *next, char *log,
		      size_t loglen)
{
	char was[PGD_VALUE_SIZE], now[PGD_VALUE_SIZE];
	size_t used = 0;
	int changed = 0;

	if (loglen)
		log[0] = '\0';
	for (size_t i = 0; i < PGD_KEY_TOTAL; i++) {
		const struct pgd_key *k = &pgd_keys[i];

		if (pgd_key_equal(k, cur, next))
			continue;
		pgd_key_format(k, cur, was, sizeof(was));
		pgd_key_format(k, next, now, sizeof(now));
		append(log, loglen, &used, "%s.%s: %s -> %s (%s)\n", pgd_section_names[k->section],
		       k->name, was[0] ? was : "(none)", now[0] ? now : "(none)",
		       k->reloadable ? "applied" : "needs a restart");
		if (k->reloadable) {
			pgd_key_copy(k, cur, next);
			changed++;
		}
	}
	return changed;
}
