/*
 * identity.c - `peergraph identity`: the identities in the daemon's store (create, list,
 * delete, rename, default) and their export to / import from a password-protected file.
 *
 * An identity is an Ed25519 key pair the daemon keeps; its peer name (AUTHORITY.CLASSIFIER)
 * names it everywhere. The export file is written here, on the side of the tool, mode 0600:
 * the daemon hands the encrypted bytes over, so the file can be anywhere this user can write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"

enum {
	OPT_FRIENDLY = CLI_OPT_FIRST,
	OPT_DEFAULT,
	OPT_NOT_DEFAULT,
	OPT_PASSWORD_FILE,
	OPT_FORCE,
	OPT_YES,
};

/* --default / --not-default into library flags. 0 or the usage error. */
static int default_flag(struct cli *c, int o, unsigned *flags)
{
	unsigned want =
	    o == OPT_DEFAULT ? PEERGRAPH_IDENTITY_MAKE_DEFAULT : PEERGRAPH_IDENTITY_NOT_DEFAULT;

	if (*flags && *flags != want)
		return cli_usage(c, "--default and --not-default exclude each other");
	*flags = want;
	return 0;
}

/* Checks a PEERNAME operand. 0 or the usage error. */
static int peer_name_arg(struct cli *c, const char *s)
{
	char why[CLI_WHY_SIZE];

	if (cli_check_peer_name(s, why))
		return cli_usage(c, "PEERNAME '%s': %s", s, why);
	return 0;
}

/* Prints what a command changed: {"peer_name": name, key: val} or the text. */
static int done(struct cli *c, const char *name, const char *key, json_t *val, const char *text)
{
	json_t *doc;

	if (!c->json) {
		json_decref(val);
		printf("%s\n", text);
		return CLI_EXIT_OK;
	}
	doc = json_object();
	cli_json_set(doc, "peer_name", json_string(name));
	if (key)
		cli_json_set(doc, key, val);
	return cli_json_print(c, doc);
}

/* ---- create ------------------------------------------------------------------------------ */

static const char create_help[] =
    "SYNOPSIS\n"
    "    peergraph identity create CLASSIFIER [--friendly-name NAME]\n"
    "                              [--default | --not-default]\n"
    "\n"
    "DESCRIPTION\n"
    "    Creates an identity: the daemon makes a new Ed25519 key pair and a self-signed\n"
    "    certificate, and names it AUTHORITY.CLASSIFIER, the authority being the hex\n"
    "    SHA-1 of its public key. Prints the new peer name.\n"
    "\n"
    "    CLASSIFIER is 1 to 149 printable ASCII characters without spaces, '/' or '\\'.\n"
    "\n"
    "OPTIONS\n"
    "    --friendly-name NAME   a name for people, up to 255 characters of UTF-8\n"
    "    --default              make it the default identity (graphs created without\n"
    "                           --identity are signed by it)\n"
    "    --not-default          do not make it the default; without either option it\n"
    "                           becomes the default only if there is none yet\n"
    "\n"
    "OUTPUT\n"
    "    The peer name; with --json {\"peer_name\": \"...\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity create alice --friendly-name 'Alice Example' --default\n"
    "    name=$(peergraph identity create build-bot --not-default)\n";

static int create_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "friendly-name", required_argument, NULL, OPT_FRIENDLY },
		{ "default", no_argument, NULL, OPT_DEFAULT },
		{ "not-default", no_argument, NULL, OPT_NOT_DEFAULT },
		{ 0 },
	};
	static const char *const operands[] = { "CLASSIFIER" };
	char why[CLI_WHY_SIZE], name[PEERGRAPH_PEER_NAME_SIZE];
	const char *friendly = NULL;
	unsigned flags = 0;
	int o, status, err;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o == OPT_FRIENDLY && cli_check_friendly_name(optarg, why))
			return cli_usage(c, "--friendly-name: %s", why);
		if (o == OPT_FRIENDLY)
			friendly = optarg;
		else if ((status = default_flag(c, o, &flags)))
			return status;
	}
	if ((status = cli_operands(c, argc, argv, 1, 1, operands)))
		return status;
	if (cli_check_classifier(argv[optind], why))
		return cli_usage(c, "CLASSIFIER '%s': %s", argv[optind], why);
	if ((status = cli_connect(c)))
		return status;
	err = peergraph_identity_create(c->pg, argv[optind], friendly, flags, name);
	if (err)
		return cli_fail(c, err, "cannot create an identity with classifier '%s'",
				argv[optind]);
	return done(c, name, NULL, NULL, name);
}

/* ---- list -------------------------------------------------------------------------------- */

static const char list_help[] =
    "SYNOPSIS\n"
    "    peergraph identity list\n"
    "\n"
    "DESCRIPTION\n"
    "    Lists the identities in the daemon's store: peer name, whether it is the\n"
    "    default (*), and friendly name.\n"
    "\n"
    "OUTPUT\n"
    "    A table; with --json {\"identities\": [{\"peer_name\": \"...\", \"friendly_name\":\n"
    "    \"...\", \"default\": true}, ...]}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity list\n"
    "    peergraph --json identity list | jq -r '.identities[] | select(.default) | "
    ".peer_name'\n";

static long identities(struct cli *c, void *buf, size_t max)
{
	return peergraph_identity_list(c->pg, buf, max);
}

static int list_print(struct cli *c, const void *list, long n)
{
	static const char *const headers[] = { "PEER NAME", "DEFAULT", "FRIENDLY NAME" };
	const struct peergraph_identity *ids = list;
	struct cli_table *t;
	json_t *arr;

	if (c->json) {
		arr = json_array();
		for (long i = 0; arr && i < n; i++) {
			json_t *item = json_pack("{s:s, s:s, s:b}", "peer_name", ids[i].peer_name,
						 "friendly_name", ids[i].friendly_name, "default",
						 !!(ids[i].flags & PEERGRAPH_IDENTITY_IS_DEFAULT));

			if (json_array_append_new(arr, item)) {
				json_decref(arr);
				arr = NULL;
			}
		}
		return cli_json_print(c, arr ? json_pack("{s:o}", "identities", arr) : NULL);
	}
	t = cli_table_create(3, headers);
	for (long i = 0; i < n; i++) {
		const char *row[] = { ids[i].peer_name,
				      ids[i].flags & PEERGRAPH_IDENTITY_IS_DEFAULT ? "*" : "",
				      ids[i].friendly_name };

		cli_table_row(t, row);
	}
	return cli_table_finish(c, t);
}

static int list_run(struct cli *c, int argc, char **argv)
{
	return cli_list_run(c, argc, argv, identities, sizeof(struct peergraph_identity),
			    list_print, "the identities");
}

/* ---- delete, rename, default ------------------------------------------------------------- */

static const char delete_help[] =
    "SYNOPSIS\n"
    "    peergraph identity delete PEERNAME [--yes]\n"
    "\n"
    "DESCRIPTION\n"
    "    Deletes an identity and its private key from the daemon's store. This cannot\n"
    "    be undone: export it first to keep a copy. Asks for confirmation when standard\n"
    "    input is a terminal; elsewhere (a script) it refuses without --yes.\n"
    "\n"
    "OPTIONS\n"
    "    -y, --yes   do not ask\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity export 3f1c...e2.alice alice.pgid && \\\n"
    "        peergraph identity delete 3f1c...e2.alice --yes\n";

static int delete_run(struct cli *c, int argc, char **argv)
{
	static const struct cli_delete d = { "PEERNAME", "identity", "and its private key",
					     peer_name_arg };
	int status, err;

	if ((status = cli_delete_args(c, argc, argv, &d)) || (status = cli_connect(c)))
		return status;
	if ((err = peergraph_identity_delete(c->pg, argv[optind])))
		return cli_fail(c, err, "cannot delete identity %s", argv[optind]);
	return done(c, argv[optind], "deleted", json_true(), "identity deleted");
}

static const char rename_help[] =
    "SYNOPSIS\n"
    "    peergraph identity rename PEERNAME FRIENDLY_NAME\n"
    "\n"
    "DESCRIPTION\n"
    "    Sets an identity's friendly name (up to 255 characters of UTF-8; \"\" clears\n"
    "    it). The peer name never changes.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity rename 3f1c...e2.alice 'Alice (laptop)'\n";

static int rename_run(struct cli *c, int argc, char **argv)
{
	static const char *const operands[] = { "PEERNAME", "FRIENDLY_NAME" };
	char why[CLI_WHY_SIZE];
	const char *name, *friendly;
	int status, err;

	if ((status = cli_plain_args(c, argc, argv, 2, 2, operands)) ||
	    (status = peer_name_arg(c, argv[optind])))
		return status;
	name = argv[optind];
	friendly = argv[optind + 1];
	if (cli_check_friendly_name(friendly, why))
		return cli_usage(c, "FRIENDLY_NAME: %s", why);
	if ((status = cli_connect(c)))
		return status;
	if ((err = peergraph_identity_set_friendly_name(c->pg, name, friendly)))
		return cli_fail(c, err, "cannot rename identity %s", name);
	return done(c, name, "friendly_name", json_string(friendly), "identity renamed");
}

static const char default_help[] =
    "SYNOPSIS\n"
    "    peergraph identity default PEERNAME\n"
    "\n"
    "DESCRIPTION\n"
    "    Makes an identity the default: graphs created without --identity are signed\n"
    "    by it. `peergraph identity list` marks the default with *.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity default 3f1c...e2.alice\n";

static int default_run(struct cli *c, int argc, char **argv)
{
	static const char *const operands[] = { "PEERNAME" };
	int status, err;

	if ((status = cli_plain_args(c, argc, argv, 1, 1, operands)) ||
	    (status = peer_name_arg(c, argv[optind])))
		return status;
	if ((status = cli_connect(c)))
		return status;
	if ((err = peergraph_identity_set_default(c->pg, argv[optind])))
		return cli_fail(c, err, "cannot make %s the default identity", argv[optind]);
	return done(c, argv[optind], "default", json_true(), "default identity set");
}

/* ---- export, import ---------------------------------------------------------------------- */

static const char export_help[] =
    "SYNOPSIS\n"
    "    peergraph identity export PEERNAME FILE|- [--password-file PWFILE] [--force]\n"
    "\n"
    "DESCRIPTION\n"
    "    Writes an identity, its private key encrypted under a password (PKCS#8,\n"
    "    PBKDF2-HMAC-SHA256 and AES-256-CBC) with its certificate, to FILE (mode 0600,\n"
    "    on this host; \"-\": standard output). `peergraph identity import` reads it\n"
    "    back on any node. FILE appears only once the export is whole: a failure\n"
    "    leaves no file, and an old one replaced with --force stays until then.\n"
    "\n"
    "    The password is the first line of PWFILE (\"-\": standard input), or is asked\n"
    "    for twice on the terminal. It is never taken from the command line, where\n"
    "    other users could read it.\n"
    "\n"
    "OPTIONS\n"
    "    --password-file PWFILE   read the password from PWFILE\n"
    "    --force                  replace FILE if it exists\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"peer_name\": \"...\", \"file\": \"/abs/path\", \"bytes\": N}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity export 3f1c...e2.alice alice.pgid\n"
    "    peergraph identity export 3f1c...e2.alice /backup/alice.pgid --password-file "
    "pw.txt\n";

/* Writes len bytes to fd whole. 0 or -errno. */
static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct export_args {
	const char *name, *file, *pwfile;
	bool force;
	bool to_stdout;		    /* FILE is "-" */
	char tmp[CLI_PATH_MAX + 1]; /* the temp file beside FILE; "" when there is none */
};

/*
 * The export is written to a temp file beside FILE (mode 0600) and renamed into place once it
 * is whole and synced, so a failure at any point leaves FILE as it was: no half export to be
 * mistaken for one, and --force replaces an old export only with a complete new one. The
 * temp file is made before anything is asked or sent, so an unwritable directory or a FILE
 * in the way is found first. fd, or the usage error reported.
 */
static int export_open(struct cli *c, struct export_args *a, int *fd)
{
	struct stat st;

	a->tmp[0] = '\0';
	if (a->to_stdout) {
		*fd = STDOUT_FILENO;
		return 0;
	}
	if (!a->force && lstat(a->file, &st) == 0)
		return cli_usage(c,
				 "FILE %s exists: choose another name, or give --force to "
				 "replace it",
				 a->file);
	if (snprintf(a->tmp, sizeof(a->tmp), "%s.tmp-XXXXXX", a->file) >= (int)sizeof(a->tmp))
		return cli_usage(c, "FILE %s: %s", a->file, strerror(ENAMETOOLONG));
	*fd = mkostemp(a->tmp, O_CLOEXEC);
	if (*fd < 0) {
		a->tmp[0] = '\0';
		return cli_usage(c, "FILE %s: %s", a->file, strerror(errno));
	}
	return 0;
}

/* Puts the whole, synced temp file in FILE's place: over it with --force, else only while
 * FILE still does not exist (link fails if it appeared meanwhile). 0 or -errno. */
static int export_place(struct export_args *a, int fd)
{
	if (a->to_stdout)
		return 0;
	if (fsync(fd))
		return -errno;
	if (a->force ? rename(a->tmp, a->file) : link(a->tmp, a->file))
		return -errno;
	if (!a->force)
		unlink(a->tmp);
	a->tmp[0] = '\0';
	return 0;
}

/* The export itself, once its file is open. */
static int export_to(struct cli *c, struct export_args *a, int fd, char *pw, size_t cap)
{
	char abs[CLI_PATH_MAX + 1];
	uint8_t *data;
	size_t len;
	int status, err;

	if ((status = cli_connect(c)) || (status = cli_password_prompt(c, true, pw, cap)))
		return status;
	if ((err = peergraph_identity_export(c->pg, a->name, pw, &data, &len)))
		return cli_fail(c, err, "cannot export identity %s", a->name);
	if (!(err = write_all(fd, data, len)))
		err = export_place(a, fd);
	explicit_bzero(data, len);
	free(data);
	if (err)
		return cli_local_fail(c, "writing %s: %s", a->file, strerror(-err));
	if (a->to_stdout)
		return CLI_EXIT_OK; /* the export is the output */
	if (!c->json) {
		printf("identity %s exported to %s\n", a->name, a->file);
		return CLI_EXIT_OK;
	}
	if (cli_path_absolute(a->file, abs))
		snprintf(abs, sizeof(abs), "%s", a->file);
	return cli_json_print(c, json_pack("{s:s, s:s, s:I}", "peer_name", a->name, "file", abs,
					   "bytes", (json_int_t)len));
}

static int export_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ 0 },
	};
	static const char *const operands[] = { "PEERNAME", "FILE" };
	struct export_args a = { 0 };
	char pw[CLI_PASSWORD_MAX + 2];
	int o, status, fd = -1;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o == OPT_PASSWORD_FILE)
			a.pwfile = optarg;
		else
			a.force = true;
	}
	if ((status = cli_operands(c, argc, argv, 2, 2, operands)) ||
	    (status = peer_name_arg(c, argv[optind])))
		return status;
	a.name = argv[optind];
	a.file = argv[optind + 1];
	a.to_stdout = strcmp(a.file, "-") == 0;
	if (a.to_stdout && c->json)
		return cli_usage(c, "FILE - (standard output) and --json exclude each other");
	if ((status = cli_password_read(c, a.pwfile, pw, sizeof(pw))))
		return status;
	if (!(status = export_open(c, &a, &fd)))
		status = export_to(c, &a, fd, pw, sizeof(pw));
	explicit_bzero(pw, sizeof(pw));
	if (fd >= 0 && !a.to_stdout)
		close(fd);
	if (a.tmp[0])
		unlink(a.tmp); /* the export failed: FILE is as it was */
	return status;
}

static const char import_help[] =
    "SYNOPSIS\n"
    "    peergraph identity import FILE [--password-file PWFILE]\n"
    "                              [--default | --not-default]\n"
    "\n"
    "DESCRIPTION\n"
    "    Adds an identity exported by `peergraph identity export` to the daemon's\n"
    "    store and prints its peer name. The password is the first line of PWFILE\n"
    "    (\"-\": standard input), or is asked for on the terminal.\n"
    "\n"
    "OPTIONS\n"
    "    --password-file PWFILE   read the password from PWFILE\n"
    "    --default                make it the default identity\n"
    "    --not-default            do not; without either, it becomes the default only\n"
    "                             if there is none yet\n"
    "\n"
    "OUTPUT\n"
    "    The peer name; with --json {\"peer_name\": \"...\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity import alice.pgid\n"
    "    printf '%%s\\n' \"$PW\" | peergraph identity import alice.pgid --password-file -\n";

static int import_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "default", no_argument, NULL, OPT_DEFAULT },
		{ "not-default", no_argument, NULL, OPT_NOT_DEFAULT },
		{ 0 },
	};
	static const char *const operands[] = { "FILE" };
	char pw[CLI_PASSWORD_MAX + 2], name[PEERGRAPH_PEER_NAME_SIZE];
	const char *pwfile = NULL, *file;
	unsigned flags = 0;
	uint8_t *data;
	size_t len;
	int o, status, err;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o == OPT_PASSWORD_FILE)
			pwfile = optarg;
		else if ((status = default_flag(c, o, &flags)))
			return status;
	}
	if ((status = cli_operands(c, argc, argv, 1, 1, operands)))
		return status;
	file = argv[optind];
	if (pwfile && strcmp(pwfile, "-") == 0 && strcmp(file, "-") == 0)
		return cli_usage(c, "FILE and --password-file cannot both be standard input");
	err = cli_file_read(file, CLI_EXPORT_MAX, &data, &len);
	if (err)
		return cli_usage(c, "FILE %s: %s", file,
				 err == -EFBIG ? "larger than an identity export (1 MiB)"
					       : strerror(-err));
	if ((status = cli_password_read(c, pwfile, pw, sizeof(pw))) || (status = cli_connect(c)) ||
	    (status = cli_password_prompt(c, false, pw, sizeof(pw))))
		goto out;
	err = peergraph_identity_import(c->pg, data, len, pw, flags, name);
	if (err)
		status = cli_fail(c, err, "cannot import the identity in %s", file);
	else
		status = done(c, name, NULL, NULL, name);
out:
	explicit_bzero(pw, sizeof(pw));
	free(data);
	return status;
}

/* ---- the group --------------------------------------------------------------------------- */

static const char identity_help[] =
    "SYNOPSIS\n"
    "    peergraph identity create CLASSIFIER [--friendly-name NAME]\n"
    "                              [--default | --not-default]\n"
    "    peergraph identity list\n"
    "    peergraph identity delete PEERNAME [--yes]\n"
    "    peergraph identity rename PEERNAME FRIENDLY_NAME\n"
    "    peergraph identity default PEERNAME\n"
    "    peergraph identity export PEERNAME FILE|- [--password-file PWFILE] [--force]\n"
    "    peergraph identity import FILE [--password-file PWFILE] [--default | "
    "--not-default]\n"
    "\n"
    "DESCRIPTION\n"
    "    Manages the identities in the daemon's store. An identity is an Ed25519 key\n"
    "    pair named by its peer name, AUTHORITY.CLASSIFIER; a secured graph's records\n"
    "    are signed with its identity's key.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph identity create alice --default\n"
    "    peergraph identity list\n";

static const struct cli_cmd create_cmd = {
	"create", "create an identity (a new key pair)", create_help, create_run, NULL,
};
static const struct cli_cmd list_cmd = {
	"list", "list the identities", list_help, list_run, NULL,
};
static const struct cli_cmd delete_cmd = {
	"delete", "delete an identity and its key", delete_help, delete_run, NULL,
};
static const struct cli_cmd rename_cmd = {
	"rename", "set an identity's friendly name", rename_help, rename_run, NULL,
};
static const struct cli_cmd default_cmd = {
	"default", "make an identity the default", default_help, default_run, NULL,
};
static const struct cli_cmd export_cmd = {
	"export", "write an identity to a password-protected file", export_help, export_run, NULL,
};
static const struct cli_cmd import_cmd = {
	"import", "add an identity from an exported file", import_help, import_run, NULL,
};

static const struct cli_cmd *const identity_cmds[] = {
	&create_cmd,  &list_cmd,   &delete_cmd, &rename_cmd,
	&default_cmd, &export_cmd, &import_cmd, NULL,
};

const struct cli_cmd cli_identity_cmd = {
	"identity",    "manage identities (key pairs and peer names)", identity_help, NULL,
	identity_cmds,
};
