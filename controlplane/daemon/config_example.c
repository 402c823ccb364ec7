/*
 * config_example.c - writes peergraphd's documented example configuration from its key table
 * (pgd_config_write_example) to the path given, or to stdout. The build's `config-example`
 * target runs it over doc/peergraphd.conf.example; test-config fails while the two differ.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/config.h"

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
	int err;

	if (!f) {
		perror(argv[1]);
		return 1;
	}
	err = pgd_config_write_example(f);
	if (f != stdout && fclose(f))
		err = -1;
	if (err) {
		fprintf(stderr, "pgd-config-example: write failed\n");
		return 1;
	}
	return 0;
}
