/*
 * log.h - peergraphd's log: one line per message on stderr, with its level, so that systemd's
 * journal (or whoever reads stderr) can filter by it. The level is a setting that SIGHUP may
 * change; everything else logs through pgd_log.
 */
#ifndef PGD_LOG_H
#define PGD_LOG_H

/* syslog priorities, as the configuration's log_level holds them (config.h) */
enum pgd_log_level {
	PGD_LOG_ERROR = 3, /* LOG_ERR */
	PGD_LOG_WARN = 4,  /* LOG_WARNING */
	PGD_LOG_INFO = 6,  /* LOG_INFO */
	PGD_LOG_DEBUG = 7, /* LOG_DEBUG */
};

/* Sets the most verbose level written (messages above it are skipped). Cannot fail. */
void pgd_log_set_level(enum pgd_log_level level);
enum pgd_log_level pgd_log_get_level(void);
/* "error", "warn", "info", "debug". */
const char *pgd_log_level_name(enum pgd_log_level level);

/* Writes one line: "<N>peergraphd: level: message" under systemd (JOURNAL_STREAM set: the
 * journal reads the <N> priority), "peergraphd: level: message" otherwise. */
void pgd_log(enum pgd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
