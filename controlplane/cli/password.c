/*
 * password.c - the password of an identity export or import: from a file, or asked for on
 * the terminal with echo off. Never from the command line, where every user of the host can
 * read it (/proc/PID/cmdline) and the shell's history keeps it.
 *
 * The file's first line is the password (its newline is not part of it), so `printf '%s\n'
 * "$pw" > f` and an editor's file both work; "-" reads standard input. A file that others may
 * read is used but warned about. Every copy is wiped after use.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static struct termios saved;	       /* the terminal as it was, while echo is off */
static volatile sig_atomic_t echo_off; /* restore it on a signal */

static void restore_and_reraise(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Prompts on stderr and reads one line with echo off. 0, -ENAMETOOLONG (over cap - 1),
 * -EIO (end of input) or -errno. */
static int ask(const char *prompt, char *out, size_t cap)
{
	struct sigaction sa = { .sa_handler = restore_and_reraise }, old_int, old_term;
	struct termios quiet;
	size_t len;
	int err = 0;

	if (tcgetattr(STDIN_FILENO, &saved))
		return -errno;
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	echo_off = 1;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet))
		err = -errno;
	else if (!fgets(out, (int)cap, stdin))
		err = -EIO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	echo_off = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (err)
		return err;
	len = strcspn(out, "\n");
	if (!out[len] && len + 1 >= cap)
		return -ENAMETOOLONG;
	out[len] = '\0';
	return 0;
}

static int from_terminal(struct cli *c, bool confirm, char *out, size_t cap)
{
	char again[CLI_PASSWORD_MAX + 2];
	int err;

	err = ask("Password: ", out, cap);
	if (!err && confirm)
		err = ask("Password again: ", again, sizeof(again));
	if (!err && confirm && strcmp(out, again) != 0)
		err = -EINVAL;
	explicit_bzero(again, sizeof(again));
	if (err == -EINVAL)
		return cli_usage(c, "the two passwords differ");
	if (err == -ENAMETOOLONG)
		return cli_usage(c, "the password is longer than %d bytes", CLI_PASSWORD_MAX);
	if (err)
		return cli_usage(c, "no password read from the terminal: %s", strerror(-err));
	return 0;
}

static int from_file(struct cli *c, const char *file, char *out, size_t cap)
{
	struct stat st;
	uint8_t *buf;
	size_t len, line;
	int err = cli_file_read(file, CLI_PASSWORD_MAX + 2, &buf, &len);

	if (err == -EFBIG)
		return cli_usage(c, "--password-file %s: the password is longer than %d bytes",
				 file, CLI_PASSWORD_MAX);
	if (err)
		return cli_usage(c, "--password-file %s: %s", file, strerror(-err));
	if (strcmp(file, "-") != 0 && stat(file, &st) == 0 && (st.st_mode & 0077))
		fprintf(stderr, "%s: warning: %s may be read by other users (chmod 600 %s)\n",
			c->cmd, file, file);
	line = strcspn((char *)buf, "\r\n");
	if (line == 0 || line >= cap) {
		err = -EINVAL;
	} else {
		memcpy(out, buf, line);
		out[line] = '\0';
	}
	explicit_bzero(buf, len);
	free(buf);
	if (err)
		return cli_usage(c, "--password-file %s: %s", file,
				 line ? "the password is too long" : "the first line is empty");
	return 0;
}

int cli_password_read(struct cli *c, const char *file, char *out, size_t cap)
{
	int status;

	out[0] = '\0';
	if (!file && !isatty(STDIN_FILENO))
		return cli_usage(c, "no password: give --password-file FILE (standard input is not "
				    "a terminal to ask on)");
	if (!file)
		return 0; /* asked for once the daemon is reached: no typing for nothing */
	status = from_file(c, file, out, cap);
	if (status)
		explicit_bzero(out, cap);
	return status;
}

int cli_password_prompt(struct cli *c, bool confirm, char *out, size_t cap)
{
	int status;

	if (out[0])
		return 0;
	status = from_terminal(c, confirm, out, cap);
	if (status == 0 && !out[0])
		status = cli_usage(c, "the password is empty");
	if (status)
		explicit_bzero(out, cap);
	return status;
}
