/*
 * log.c - peergraphd's log (log.h). One write(2) per line, so lines from the store's and the
 * dataplane's threads never interleave mid-line.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static _Atomic int log_level = PGD_LOG_INFO;

/* indexed by syslog priority */
static const char *const names[8] = { [3] = "error", [4] = "warn", [6] = "info", [7] = "debug" };

void pgd_log_set_level(enum pgd_log_level level)
{
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

enum pgd_log_level pgd_log_get_level(void)
{
	return (enum pgd_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

const char *pgd_log_level_name(enum pgd_log_level level)
{
	return (unsigned)level <= PGD_LOG_DEBUG && names[level] ? names[level] : "?";
}

void pgd_log(enum pgd_log_level level, const char *fmt, ...)
{
	static _Atomic int journal = -1;
	char line[2048];
	va_list ap;
	int n;

	if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed) ||
	    (unsigned)level > PGD_LOG_DEBUG || !names[level])
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal)
		n = snprintf(line, sizeof(line), "<%d>peergraphd: %s: ", (int)level, names[level]);
	else
		n = snprintf(line, sizeof(line), "peergraphd: %s: ", names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}
