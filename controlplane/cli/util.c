/*
 * util.c - what the commands of `peergraph` need besides the library: time in ISO 8601,
 * base64 for binary payloads in JSON, reading input files, paths for the daemon, and asking
 * for confirmation on the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- time ------------------------------------------------------------------------------ */

void cli_time_format(uint64_t us, bool frac, char out[CLI_TIME_SIZE])
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;

	/* past year 9999 is no time a person reads: show the number as it is */
	if (us / 1000000 > 253402300799ull || !gmtime_r(&sec, &tm)) {
		snprintf(out, CLI_TIME_SIZE, "@%llu.%06llu", (unsigned long long)(us / 1000000),
			 (unsigned long long)(us % 1000000));
		return;
	}
	/* years 1970..9999: 19 characters, then the fraction and the zone */
	strftime(out, CLI_TIME_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(out + strlen(out), CLI_TIME_SIZE - strlen(out), ".%06uZ",
			 (unsigned)(us % 1000000));
	else
		strcat(out, "Z");
}

uint64_t cli_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

double cli_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- base64 (RFC 4648 section 4) ------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void cli_b64_encode(const void *in, size_t len, char *out)
{
	const uint8_t *p = in;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = b64_alphabet[(v >> 6) & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int b64_value(char ch)
{
	const char *at = ch ? strchr(b64_alphabet, ch) : NULL;

	return at ? (int)(at - b64_alphabet) : -1;
}

long cli_b64_decode(const char *in, size_t len, uint8_t *out)
{
	size_t n = 0;

	if (len % 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int pad = last ? (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=') : 0;
		uint32_t v = 0;

		for (int k = 0; k < 4 - pad; k++) {
			int d = b64_value(in[i + k]);

			if (d < 0)
				return -EINVAL;
			v = v << 6 | (uint32_t)d;
		}
		v <<= 6 * pad;
		/* the bits under the padding must be zero: one text per byte string */
		if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
			return -EINVAL;
		out[n++] = (uint8_t)(v >> 16);
		if (pad < 2)
			out[n++] = (uint8_t)(v >> 8);
		if (pad < 1)
			out[n++] = (uint8_t)v;
	}
	return (long)n;
}

/* ---- files ----------------------------------------------------------------------------- */

int cli_file_read(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	uint8_t *p = NULL, *grown;
	int err = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap || !p) {
			if (p)
				cap *= 2;
			grown = realloc(p, cap);
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			p = grown;
		}
		r = read(fd, p + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err = -EFBIG;
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (err) {
		free(p);
		return err;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int cli_path_absolute(const char *path, char out[CLI_PATH_MAX + 1])
{
	char resolved[PATH_MAX], *copy;
	int err = 0, n;

	if (realpath(path, resolved)) { /* it exists (an import): the daemon reads this file */
		n = snprintf(out, CLI_PATH_MAX + 1, "%s", resolved);
		return n > CLI_PATH_MAX ? -ENAMETOOLONG : 0;
	}
	if (errno != ENOENT)
		return -errno;
	/* it does not (an export): its directory must; dirname and basename may write */
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	if (!realpath(dirname(copy), resolved))
		err = -errno;
	free(copy);
	if (err)
		return err;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	n = snprintf(out, CLI_PATH_MAX + 1, "%s/%s", strcmp(resolved, "/") ? resolved : "",
		     basename(copy));
	free(copy);
	return n > CLI_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* ---- the terminal ---------------------------------------------------------------------- */

bool cli_confirm(const char *fmt, ...)
{
	char answer[16] = "";
	va_list ap;

	/* only a person at a terminal is asked: a script gets no prompt it cannot answer */
	if (!isatty(STDIN_FILENO))
		return false;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", stderr);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		answer[0] = '\0';
	return answer[0] == 'y' || answer[0] == 'Y';
}
