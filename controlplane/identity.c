/*
 * identity.c - the identity store: create, list, delete, friendly names, the default
 * identity, and loading an identity for signing (layout and rules in identity.h).
 *
 * Every mutation is one atomic step on disk: an identity appears by the rename of its
 * complete temp directory and disappears by the rename of its directory to a temp name (the
 * files are removed after); the friendly name and the default marker are replaced by
 * fileio.c's temp-fsync-rename. A peer name given by a caller is parsed before it touches a
 * path, and its character set (peername.h) keeps it a single path component.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"
#include "identity_priv.h"
#include "pg_assert.h"
#include "pg_error.h"

#define TIME_MAX_9999 INT64_C(253402300799) /* 9999-12-31T23:59:59Z, the last X.509 time */

enum {
	META_TEXT_MAX = 32 + PG_FRIENDLY_NAME_MAX_BYTES,
};

/* --- messages --- */

int pg_idstore_fail(struct pg_identity_store *st, int err, const char *fmt, ...)
{
	unsigned long e = ERR_peek_last_error();
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	n = strlen(st->err);
	if (e && n + 3 < sizeof(st->err)) {
		memcpy(st->err + n, ": ", 2);
		ERR_error_string_n(e, st->err + n + 2, sizeof(st->err) - n - 2);
	}
	ERR_clear_error();
	return err;
}

const char *pg_identity_store_errmsg(const struct pg_identity_store *st)
{
	return st->err;
}

static void begin(struct pg_identity_store *st)
{
	st->err[0] = '\0';
}

/* --- the store --- */

/* Removes what an interrupted creation, import, deletion or file replacement left. */
static void remove_leftovers(struct pg_identity_store *st)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || !strstr(de->d_name, ".tmp-"))
			continue;
		if (pg_dir_remove_flat(st->dirfd, de->d_name) == -ENOTDIR)
			unlinkat(st->dirfd, de->d_name, 0);
	}
	closedir(d);
}

int pg_identity_store_open(const char *dir, struct pg_identity_store **out)
{
	struct pg_identity_store *st;
	int err;

	if (strlen(dir) >= sizeof(st->path))
		return -ENAMETOOLONG;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	strcpy(st->path, dir);
	if (mkdir(dir, 0700) == 0) {
		/* the umask may have cleared bits; it cannot have added any, but say it */
		if (chmod(dir, 0700) < 0)
			goto err_free_store;
	} else if (errno != EEXIST) {
		goto err_free_store;
	}
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0)
		goto err_free_store;
	remove_leftovers(st);
	*out = st;
	return 0;

err_free_store:
	err = -errno;
	free(st);
	return err;
}

void pg_identity_store_close(struct pg_identity_store *st)
{
	if (!st)
		return;
	close(st->dirfd);
	free(st);
}

/* Parses a caller's peer name: only secured names can name a stored identity. */
static int check_stored_name(struct pg_identity_store *st, const char *peer_name,
			     struct pg_peername *pn)
{
	int err = pg_peername_parse(peer_name, pn);

	if (err)
		return pg_idstore_fail(st, err, "bad peer name \"%.200s\"", peer_name);
	if (!pg_peername_is_secured(pn))
		return pg_idstore_fail(st, PG_E_IDENTITY_NOT_FOUND,
				       "%s: unsecured names have no stored identity", peer_name);
	return 0;
}

int pg_idstore_absent(struct pg_identity_store *st, const char *peer_name)
{
	struct stat sb;

	if (fstatat(st->dirfd, peer_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return PG_E_IDENTITY_EXISTS;
	return errno == ENOENT ? 0 : -errno;
}

/* Opens the directory of a stored identity: an fd, PG_E_IDENTITY_NOT_FOUND or -errno. */
static int open_identity_dir(struct pg_identity_store *st, const char *peer_name)
{
	struct pg_peername pn;
	int fd, err = check_stored_name(st, peer_name, &pn);

	if (err)
		return err;
	fd = openat(st->dirfd, peer_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return pg_idstore_fail(st, PG_E_IDENTITY_NOT_FOUND, "%s/%s", st->path, peer_name);
	return pg_idstore_fail(st, -errno, "%s/%s", st->path, peer_name);
}

int pg_idstore_kv_get(const char *text, size_t len, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;
	bool found = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq = memchr(p, '=', (size_t)((nl ? nl : end) - p));

		if (!nl || !eq || eq == p)
			return -EINVAL;
		if ((size_t)(eq - p) == klen && !memcmp(p, key, klen)) {
			size_t vlen = (size_t)(nl - eq - 1);

			if (found)
				return -EINVAL;
			if (vlen >= size)
				return -ENAMETOOLONG;
			memcpy(out, eq + 1, vlen);
			out[vlen] = '\0';
			found = true;
		}
		p = nl + 1;
	}
	return found ? 0 : -ENOENT;
}

static int meta_text(const char *friendly_name, char out[META_TEXT_MAX])
{
	int n = snprintf(out, META_TEXT_MAX, "format=1\nfriendly_name=%s\n", friendly_name);

	PG_ASSERT(n > 0 && n < META_TEXT_MAX);
	return n;
}

/* Reads and checks an identity's meta file (dfd = its directory). */
static int read_meta(struct pg_identity_store *st, int dfd, const char *peer_name,
		     char friendly[PG_FRIENDLY_NAME_SIZE])
{
	char format[8];
	uint8_t *buf;
	size_t len;
	int err;

	err = pg_file_read(dfd, META_FILE, META_FILE_MAX, 0, &buf, &len, NULL);
	if (err)
		return pg_idstore_fail(st, PG_E_IDENTITY_CORRUPT, "%s/%s/%s: %s", st->path,
				       peer_name, META_FILE, pg_strerror(err));
	err = pg_idstore_kv_get((char *)buf, len, "format", format, sizeof(format));
	if (!err && strcmp(format, "1"))
		err = -EINVAL;
	if (!err)
		err = pg_idstore_kv_get((char *)buf, len, "friendly_name", friendly,
					PG_FRIENDLY_NAME_SIZE);
	if (!err)
		err = pg_peername_check_friendly_name(friendly);
	pg_file_free(buf, len);
	if (err)
		return pg_idstore_fail(st, PG_E_IDENTITY_CORRUPT, "%s/%s/%s: malformed (%s)",
				       st->path, peer_name, META_FILE, pg_strerror(err));
	return 0;
}

/* --- default identity --- */

int pg_identity_get_default(struct pg_identity_store *st, char out[PG_PEERNAME_SIZE])
{
	struct pg_peername pn;
	uint8_t *buf;
	size_t len;
	int err;

	begin(st);
	err = pg_file_read(st->dirfd, DEFAULT_FILE, PG_PEERNAME_SIZE, 0, &buf, &len, NULL);
	if (err == -ENOENT)
		return PG_E_NO_DEFAULT;
	if (err)
		return pg_idstore_fail(st, err, "%s/%s", st->path, DEFAULT_FILE);
	if (len < 2 || buf[len - 1] != '\n' || memchr(buf, '\0', len)) {
		err = PG_E_IDENTITY_CORRUPT;
	} else {
		buf[len - 1] = '\0';
		err = pg_peername_parse((char *)buf, &pn) ? PG_E_IDENTITY_CORRUPT : 0;
	}
	if (err) {
		pg_file_free(buf, len);
		return pg_idstore_fail(st, err, "%s/%s: malformed", st->path, DEFAULT_FILE);
	}
	/* a default whose identity is gone (a crash mid-delete) is no default */
	err = pg_idstore_absent(st, (char *)buf);
	if (err == PG_E_IDENTITY_EXISTS) {
		memcpy(out, buf, len);
		err = 0;
	} else if (err == 0) {
		err = PG_E_NO_DEFAULT;
	}
	pg_file_free(buf, len);
	return err;
}

static int clear_default(struct pg_identity_store *st)
{
	if (unlinkat(st->dirfd, DEFAULT_FILE, 0) < 0 && errno != ENOENT)
		return pg_idstore_fail(st, -errno, "%s/%s", st->path, DEFAULT_FILE);
	return pg_dir_sync(st->dirfd);
}

int pg_identity_set_default(struct pg_identity_store *st, const char *peer_name)
{
	char line[PG_PEERNAME_SIZE + 1];
	int fd, err;

	begin(st);
	if (!peer_name)
		return clear_default(st);
	fd = open_identity_dir(st, peer_name);
	if (fd < 0)
		return fd;
	close(fd);
	snprintf(line, sizeof(line), "%s\n", peer_name);
	err = pg_file_write_atomic(st->dirfd, DEFAULT_FILE, line, strlen(line));
	if (err)
		return pg_idstore_fail(st, err, "%s/%s", st->path, DEFAULT_FILE);
	return 0;
}

/* Applies the default rule of enum pg_identity_flags to a just-committed identity. */
static int apply_default_rule(struct pg_identity_store *st, const char *peer_name, unsigned flags)
{
	char cur[PG_PEERNAME_SIZE];
	int err;

	if (flags & PG_IDENTITY_NOT_DEFAULT)
		return 0;
	if (!(flags & PG_IDENTITY_MAKE_DEFAULT)) {
		err = pg_identity_get_default(st, cur);
		if (err != PG_E_NO_DEFAULT)
			return err;
	}
	return pg_identity_set_default(st, peer_name);
}

/* --- create, commit, list, delete --- */

/* Writes the three files of an identity into the (new, empty) directory dfd. */
static int write_identity_files(int dfd, EVP_PKEY *pkey, X509 *cert, const char *friendly)
{
	char meta[META_TEXT_MAX];
	BIO *key = BIO_new(BIO_s_secmem()), *crt = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int err = PG_E_CRYPTO;

	if (!key || !crt || !PEM_write_bio_PKCS8PrivateKey(key, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(crt, cert))
		goto out_free_bios;
	n = BIO_get_mem_data(key, &p);
	err = pg_file_write_new(dfd, KEY_FILE, p, (size_t)n);
	if (err)
		goto out_free_bios;
	n = BIO_get_mem_data(crt, &p);
	err = pg_file_write_new(dfd, CERT_FILE, p, (size_t)n);
	if (err)
		goto out_free_bios;
	err = pg_file_write_new(dfd, META_FILE, meta, (size_t)meta_text(friendly, meta));
	if (!err)
		err = pg_dir_sync(dfd);
out_free_bios:
	BIO_free(key);
	BIO_free(crt);
	return err;
}

static int rename_noreplace(int dirfd, const char *from, const char *to)
{
	if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return errno == EEXIST || errno == ENOTEMPTY ? PG_E_IDENTITY_EXISTS : -errno;
	/* a file system without RENAME_NOREPLACE: the store has one process, check then rename */
	if (faccessat(dirfd, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return PG_E_IDENTITY_EXISTS;
	return renameat(dirfd, from, dirfd, to) < 0 ? -errno : 0;
}

int pg_idstore_commit(struct pg_identity_store *st, const char *peer_name, EVP_PKEY *pkey,
		      X509 *cert, const char *friendly_name, unsigned flags, bool *committed)
{
	char tmp[PG_FILE_TEMP_NAME_MAX];
	int dfd, err, n;

	n = pg_identity_list(st, NULL, 0);
	if (n < 0)
		return n;
	if (n >= PG_IDENTITY_STORE_MAX)
		return pg_idstore_fail(st, PG_E_IDENTITY_STORE_FULL, "%s holds %d identities",
				       st->path, n);
	err = pg_idstore_absent(st, peer_name);
	if (err)
		return pg_idstore_fail(st, err, "%s/%s", st->path, peer_name);

	err = pg_dir_make_temp(st->dirfd, "new", tmp);
	if (err)
		return pg_idstore_fail(st, err, "%s: creating a temp directory", st->path);
	dfd = openat(st->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0) {
		err = -errno;
		goto err_remove_temp;
	}
	err = write_identity_files(dfd, pkey, cert, friendly_name);
	close(dfd);
	if (err)
		goto err_remove_temp;
	err = rename_noreplace(st->dirfd, tmp, peer_name);
	if (err)
		goto err_remove_temp;
	*committed = true;
	err = pg_dir_sync(st->dirfd);
	if (err)
		return pg_idstore_fail(st, err, "%s: fsync", st->path);
	return apply_default_rule(st, peer_name, flags);

err_remove_temp:
	pg_dir_remove_flat(st->dirfd, tmp);
	return pg_idstore_fail(st, err, "%s/%s: writing the identity", st->path, peer_name);
}

static int resolve_validity(const struct pg_identity_create_opts *o, int64_t *nb, int64_t *na)
{
	*nb = o && o->not_before ? o->not_before : (int64_t)time(NULL);
	if (o && o->not_after) {
		*na = o->not_after;
	} else {
		time_t t = (time_t)*nb;
		struct tm tm;

		if (!gmtime_r(&t, &tm))
			return PG_E_VALIDITY;
		tm.tm_year += PG_IDENTITY_INFINITE_YEARS;
		*na = (int64_t)timegm(&tm);
	}
	if (*nb < 0 || *na <= *nb || *na > TIME_MAX_9999)
		return PG_E_VALIDITY;
	return 0;
}

int pg_identity_create(struct pg_identity_store *st, const char *classifier,
		       const char *friendly_name, const struct pg_identity_create_opts *opts,
		       char peer_name[PG_PEERNAME_SIZE])
{
	struct pg_identity id = { 0 };
	char name[PG_PEERNAME_SIZE];
	EVP_PKEY *pkey;
	X509 *cert = NULL;
	bool committed = false;
	int64_t nb, na;
	int err;

	begin(st);
	if (!friendly_name)
		friendly_name = "";
	err = pg_peername_check_classifier(classifier);
	if (!err)
		err = pg_peername_check_friendly_name(friendly_name);
	if (!err)
		err = resolve_validity(opts, &nb, &na);
	if (err)
		return err;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey)
		return pg_idstore_fail(st, PG_E_CRYPTO, "Ed25519 key generation");
	err = pg_idkey_derive(pkey, &id);
	if (!err)
		err = pg_peername_secured(id.spki_der, id.spki_len, classifier, name);
	if (!err)
		err = pg_idcert_build(pkey, name, nb, na, &cert);
	if (err) {
		pg_idstore_fail(st, err, "building the identity");
		goto out_free_key;
	}
	err = pg_idstore_commit(st, name, pkey, cert, friendly_name, opts ? opts->flags : 0,
				&committed);
	if (committed && peer_name)
		memcpy(peer_name, name, sizeof(name));
	X509_free(cert);
out_free_key:
	OPENSSL_free(id.spki_der);
	EVP_PKEY_free(pkey);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int pg_identity_list(struct pg_identity_store *st, char (*names)[PG_PEERNAME_SIZE], size_t cap)
{
	char(*all)[PG_PEERNAME_SIZE] = NULL;
	struct dirent *de;
	struct pg_peername pn;
	size_t n = 0;
	DIR *d;
	int fd, err = 0;

	begin(st);
	if (cap) {
		all = calloc(PG_IDENTITY_STORE_MAX, sizeof(*all));
		if (!all)
			return -ENOMEM;
	}
	fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		err = pg_idstore_fail(st, -errno, "%s", st->path);
		if (fd >= 0)
			close(fd);
		goto out_free_names;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || pg_peername_parse(de->d_name, &pn) ||
		    !pg_peername_is_secured(&pn))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (n == PG_IDENTITY_STORE_MAX) {
			err = pg_idstore_fail(st, -E2BIG, "%s: over %d identities", st->path,
					      PG_IDENTITY_STORE_MAX);
			break;
		}
		if (all)
			strcpy(all[n], de->d_name);
		n++;
	}
	closedir(d);
	if (!err && all) {
		qsort(all, n, sizeof(*all), cmp_names);
		memcpy(names, all, (n < cap ? n : cap) * sizeof(*all));
	}
out_free_names:
	free(all);
	return err ? err : (int)n;
}

int pg_identity_delete(struct pg_identity_store *st, const char *peer_name)
{
	char tmp[PG_FILE_TEMP_NAME_MAX], def[PG_PEERNAME_SIZE];
	int fd, err;

	begin(st);
	fd = open_identity_dir(st, peer_name);
	if (fd < 0)
		return fd;
	close(fd);
	/* the rename onto an empty temp directory is the commit point */
	err = pg_dir_make_temp(st->dirfd, "del", tmp);
	if (err)
		return pg_idstore_fail(st, err, "%s: creating a temp directory", st->path);
	if (renameat(st->dirfd, peer_name, st->dirfd, tmp) < 0) {
		err = -errno;
		unlinkat(st->dirfd, tmp, AT_REMOVEDIR);
		return pg_idstore_fail(st, err, "%s/%s: rename", st->path, peer_name);
	}
	err = pg_dir_sync(st->dirfd);
	if (!err)
		err = pg_dir_remove_flat(st->dirfd, tmp);
	if (err)
		return pg_idstore_fail(
		    st, err, "%s/%s deleted, but its files stay in %s until the next open",
		    st->path, peer_name, tmp);
	/* get_default already treats a default without its identity as none: clear it too */
	if (pg_identity_get_default(st, def) == PG_E_NO_DEFAULT)
		return clear_default(st);
	return 0;
}

/* --- friendly names --- */

int pg_identity_get_friendly_name(struct pg_identity_store *st, const char *peer_name,
				  char out[PG_FRIENDLY_NAME_SIZE])
{
	int fd, err;

	begin(st);
	fd = open_identity_dir(st, peer_name);
	if (fd < 0)
		return fd;
	err = read_meta(st, fd, peer_name, out);
	close(fd);
	return err;
}

int pg_identity_set_friendly_name(struct pg_identity_store *st, const char *peer_name,
				  const char *friendly_name)
{
	char meta[META_TEXT_MAX];
	int fd, err;

	begin(st);
	err = pg_peername_check_friendly_name(friendly_name);
	if (err)
		return err;
	fd = open_identity_dir(st, peer_name);
	if (fd < 0)
		return fd;
	err = pg_file_write_atomic(fd, META_FILE, meta, (size_t)meta_text(friendly_name, meta));
	close(fd);
	if (err)
		return pg_idstore_fail(st, err, "%s/%s/%s", st->path, peer_name, META_FILE);
	return 0;
}

/* --- an open identity --- */

/* Loads and parses key.pem, refusing a key file group or others may read. */
static int load_key(struct pg_identity_store *st, int dfd, const char *peer_name, EVP_PKEY **out)
{
	uint8_t *buf;
	size_t len;
	mode_t mode = 0;
	BIO *bio;
	int err;

	err = pg_file_read(dfd, KEY_FILE, KEY_FILE_MAX, 077, &buf, &len, &mode);
	if (err == PG_E_KEY_PERMS)
		return pg_idstore_fail(
		    st, err,
		    "refusing %s/%s/%s: mode %04o lets group or others access the "
		    "private key; fix with: chmod 600 %s/%s/%s",
		    st->path, peer_name, KEY_FILE, (unsigned)mode, st->path, peer_name, KEY_FILE);
	if (err)
		return pg_idstore_fail(st, PG_E_IDENTITY_CORRUPT, "%s/%s/%s: %s", st->path,
				       peer_name, KEY_FILE, pg_strerror(err));
	bio = BIO_new_mem_buf(buf, (int)len);
	/* an empty password: an encrypted key fails here instead of prompting on a tty */
	*out = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
	BIO_free(bio);
	pg_file_free(buf, len);
	if (!*out)
		return pg_idstore_fail(st, PG_E_IDENTITY_CORRUPT, "%s/%s/%s: not a private key",
				       st->path, peer_name, KEY_FILE);
	return 0;
}

static int load_cert(struct pg_identity_store *st, int dfd, const char *peer_name, X509 **out)
{
	uint8_t *buf;
	size_t len;
	BIO *bio;
	int err;

	err = pg_file_read(dfd, CERT_FILE, CERT_FILE_MAX, 0, &buf, &len, NULL);
	if (err)
		return pg_idstore_fail(st, PG_E_IDENTITY_CORRUPT, "%s/%s/%s: %s", st->path,
				       peer_name, CERT_FILE, pg_strerror(err));
	bio = BIO_new_mem_buf(buf, (int)len);
	*out = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	pg_file_free(buf, len);
	if (!*out)
		return pg_idstore_fail(st, PG_E_IDENTITY_CORRUPT, "%s/%s/%s: not a certificate",
				       st->path, peer_name, CERT_FILE);
	return 0;
}

int pg_identity_open(struct pg_identity_store *st, const char *peer_name, struct pg_identity **out)
{
	char authority[PG_AUTHORITY_LEN + 1];
	struct pg_identity *id;
	int dfd, err;

	begin(st);
	dfd = open_identity_dir(st, peer_name);
	if (dfd < 0)
		return dfd;
	id = OPENSSL_zalloc(sizeof(*id));
	if (!id) {
		err = -ENOMEM;
		goto out_close_dir;
	}
	strcpy(id->peer_name, peer_name);
	PG_ASSERT(pg_peername_parse(peer_name, &id->pn) == 0);
	err = load_key(st, dfd, peer_name, &id->pkey);
	if (!err)
		err = load_cert(st, dfd, peer_name, &id->cert);
	if (!err)
		err = read_meta(st, dfd, peer_name, id->friendly_name);
	if (err)
		goto err_close_identity;
	err = pg_idkey_derive(id->pkey, id);
	if (!err)
		err = pg_peername_authority(id->spki_der, id->spki_len, authority);
	if (!err && (strcmp(authority, id->pn.authority) ||
		     !pg_idcert_matches(id->cert, id->pkey, peer_name)))
		err = PG_E_IDENTITY_CORRUPT;
	if (err) {
		pg_idstore_fail(st, err, "%s/%s: key, certificate and name disagree", st->path,
				peer_name);
		goto err_close_identity;
	}
	err = pg_idcert_validity(id->cert, &id->not_before, &id->not_after);
	if (!err)
		err = pg_idcert_encode(id);
	if (err) {
		pg_idstore_fail(st, err, "%s/%s: encoding the certificate", st->path, peer_name);
		goto err_close_identity;
	}
	*out = id;
	goto out_close_dir;

err_close_identity:
	pg_identity_close(id);
out_close_dir:
	close(dfd);
	return err;
}

void pg_identity_close(struct pg_identity *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->pkey);
	X509_free(id->cert);
	OPENSSL_free(id->spki_der);
	OPENSSL_free(id->cert_der);
	OPENSSL_free(id->cert_pem);
	OPENSSL_clear_free(id, sizeof(*id));
}

int pg_identity_sign(const struct pg_identity *id, const void *msg, size_t len,
		     uint8_t sig[PG_IDENTITY_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = PG_IDENTITY_SIG_LEN;
	int ok;

	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, id->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == PG_IDENTITY_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : PG_E_CRYPTO;
}

const char *pg_identity_peer_name(const struct pg_identity *id)
{
	return id->peer_name;
}

const char *pg_identity_authority(const struct pg_identity *id)
{
	return id->pn.authority;
}

const char *pg_identity_classifier(const struct pg_identity *id)
{
	return id->pn.classifier;
}

const char *pg_identity_friendly_name(const struct pg_identity *id)
{
	return id->friendly_name;
}

EVP_PKEY *pg_identity_pkey(const struct pg_identity *id)
{
	return id->pkey;
}

const uint8_t *pg_identity_public_key(const struct pg_identity *id)
{
	return id->pub;
}

const uint8_t *pg_identity_key_id(const struct pg_identity *id)
{
	return id->key_id;
}

const uint8_t *pg_identity_spki_der(const struct pg_identity *id, size_t *len)
{
	*len = id->spki_len;
	return id->spki_der;
}

X509 *pg_identity_cert(const struct pg_identity *id)
{
	return id->cert;
}

const uint8_t *pg_identity_cert_der(const struct pg_identity *id, size_t *len)
{
	*len = id->cert_len;
	return id->cert_der;
}

const char *pg_identity_cert_pem(const struct pg_identity *id)
{
	return id->cert_pem;
}

void pg_identity_validity(const struct pg_identity *id, int64_t *not_before, int64_t *not_after)
{
	*not_before = id->not_before;
	*not_after = id->not_after;
}
