/*
 * fuzz_config.c - libFuzzer target for peergraphd's configuration parser
 * (controlplane/daemon/config.h: pgd_config_parse, inih driven through our line reader).
 *
 * Input: the bytes of a configuration file.
 * Properties checked beyond "no crash, no out-of-bounds access, no leak":
 *   - a refused file leaves the configuration as it was, byte for byte, and its message
 *     starts with the file's name;
 *   - an accepted file's configuration, written by pgd_config_write, parses again, from a
 *     zeroed configuration, to the same configuration: the writer writes every key, and
 *     every value the parser can produce reads back unchanged;
 *   - reloading it over the defaults applies exactly the reloadable settings (log_level,
 *     client_queue_bytes, event_queue) and keeps every other one.
 * Seeds: tests/fuzz/corpus/config/ (good and bad files, one with a line over the bound).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "pg_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct pgd_config *c)
{
	static struct pgd_config back;
	char err[PGD_CONFIG_ERR_SIZE], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f || pgd_config_write(c, f) || fclose(f))
		abort();
	memset(&back, 0, sizeof(back));
	if (pgd_config_parse(&back, "written", text, len, err, sizeof(err)) ||
	    !pgd_config_equal(c, &back)) {
		fprintf(stderr, "round trip failed: %s\n%s", err, text);
		abort();
	}
	free(text);
}

static void reload(const struct pgd_config *def, const struct pgd_config *next)
{
	static struct pgd_config cur, want;
	char log[4096];
	int n;

	cur = *def;
	n = pgd_config_reload(&cur, next, log, sizeof(log));
	if (n < 0 || n > 3 || strlen(log) >= sizeof(log))
		abort();
	want = *def;
	want.log_level = next->log_level;
	want.client_queue_bytes = next->client_queue_bytes;
	want.event_queue = next->event_queue;
	if (!pgd_config_equal(&cur, &want))
		abort(); /* a reload applied less than the reloadable settings, or more */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pgd_config def, c;
	static bool have_def;
	char err[PGD_CONFIG_ERR_SIZE];
	int ret;

	if (!have_def) {
		pgd_config_default(&def);
		have_def = true;
	}
	c = def;
	ret = pgd_config_parse(&c, "fuzz.conf", (const char *)data, size, err, sizeof(err));
	if (ret) {
		if (ret != PG_E_CONFIG || strncmp(err, "fuzz.conf:", 10) ||
		    memcmp(&c, &def, sizeof(c)))
			abort(); /* a refused file must change nothing and say where */
		return 0;
	}
	round_trip(&c);
	reload(&def, &c);
	return 0;
}
