/*
 * test_identity.c - the identity manager: store, limits, peer names, certificates, export.
 *
 * Each test gets a fresh directory under /tmp (removed after). Where the spec says what the
 * stock tools must see, the test runs the stock `openssl` command: the authority is the SHA-1
 * of `openssl pkey -pubout -outform DER`, the certificate passes `openssl verify`, and the
 * export file opens with `openssl pkey -passin`. Without `openssl` on PATH those tests skip.
 * Limit violations and damaged export files are numbered table rows.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "identity.h"
#include "peername.h"
#include "pg_error.h"

#define PW "correct horse battery staple"

enum {
	PATH_LEN = 512,
};

static char tmp[64];	   /* the test's directory */
static char store_dir[96]; /* tmp/store */
static struct pg_identity_store *st;

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void setup(void)
{
	strcpy(tmp, "/tmp/pg-identity-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(store_dir, sizeof(store_dir), "%s/store", tmp);
	cr_assert_eq(pg_identity_store_open(store_dir, &st), 0);
}

/* Idempotent: a skipped test cleans up itself, as Criterion then runs no .fini. */
static void teardown(void)
{
	pg_identity_store_close(st);
	st = NULL;
	if (tmp[0])
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

TestSuite(identity, .init = setup, .fini = teardown);

/* --- helpers --- */

static void need_openssl(void)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		teardown();
		cr_skip_test("the stock openssl command is not on PATH");
	}
}

/* Runs a shell command; its stdout goes to out (NUL-terminated). Returns the exit status. */
static int run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int status;

	cr_assert_not_null(p, "popen %s", cmd);
	if (out) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void create(const char *classifier, const char *friendly, unsigned flags,
		   char name[PG_PEERNAME_SIZE])
{
	struct pg_identity_create_opts o = { .flags = flags };
	int err = pg_identity_create(st, classifier, friendly, &o, name);

	cr_assert_eq(err, 0, "create %s: %s (%s)", classifier, pg_strerror(err),
		     pg_identity_store_errmsg(st));
}

static void path_of(char *out, size_t cap, const char *name, const char *file)
{
	snprintf(out, cap, "%s/%s/%s", store_dir, name, file);
}

/* A listing of every path under dir with its mode and size: equal listings, same store. */
static char snap_buf[16384];
static size_t snap_len;
static const char *snap_root;

static int snap_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	snap_len += (size_t)snprintf(snap_buf + snap_len, sizeof(snap_buf) - snap_len,
				     "%s %o %lld\n", path + strlen(snap_root),
				     (unsigned)sb->st_mode, (long long)sb->st_size);
	cr_assert_lt(snap_len, sizeof(snap_buf));
	return 0;
}

static char *snapshot(const char *dir)
{
	snap_len = 0;
	snap_buf[0] = '\0';
	snap_root = dir;
	cr_assert_eq(nftw(dir, snap_entry, 16, FTW_PHYS), 0);
	return strdup(snap_buf);
}

static void assert_unchanged(const char *before, const char *what)
{
	char *after = snapshot(store_dir);

	cr_assert_str_eq(after, before, "%s changed the store", what);
	free(after);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 16);

	cr_assert_not_null(f, "%s", path);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static void write_all(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void export_one(const char *name, char path[128])
{
	int err;

	snprintf(path, 128, "%s/export.pem", tmp);
	err = pg_identity_export(st, name, path, PW);
	cr_assert_eq(err, 0, "export: %s (%s)", pg_strerror(err), pg_identity_store_errmsg(st));
}

/* --- the store --- */

Test(identity, store_is_created_0700_and_reopens)
{
	struct pg_identity_store *again;
	struct stat sb;

	cr_assert_eq(stat(store_dir, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700);
	cr_assert_eq(pg_identity_list(st, NULL, 0), 0);
	cr_assert_eq(pg_identity_store_open(store_dir, &again), 0);
	pg_identity_store_close(again);
}

Test(identity, create_list_friendly_name_delete)
{
	char a[PG_PEERNAME_SIZE], b[PG_PEERNAME_SIZE], c[PG_PEERNAME_SIZE];
	char names[4][PG_PEERNAME_SIZE], fn[PG_FRIENDLY_NAME_SIZE];
	const char *sorted[3];

	create("chat", "Alice", 0, a);
	create("chat.work", NULL, 0, b);
	create("files", "Zoë 🚀", 0, c);
	cr_assert_eq(pg_identity_list(st, names, 4), 3);
	/* sorted by peer name */
	sorted[0] = a;
	sorted[1] = b;
	sorted[2] = c;
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (strcmp(sorted[i], sorted[j]) > 0) {
				const char *t = sorted[i];

				sorted[i] = sorted[j];
				sorted[j] = t;
			}
	for (int i = 0; i < 3; i++)
		cr_assert_str_eq(names[i], sorted[i]);
	/* a short array still learns the count */
	cr_assert_eq(pg_identity_list(st, names, 1), 3);
	cr_assert_str_eq(names[0], sorted[0]);

	cr_assert_eq(pg_identity_get_friendly_name(st, a, fn), 0);
	cr_assert_str_eq(fn, "Alice");
	cr_assert_eq(pg_identity_get_friendly_name(st, b, fn), 0);
	cr_assert_str_eq(fn, "");
	cr_assert_eq(pg_identity_get_friendly_name(st, c, fn), 0);
	cr_assert_str_eq(fn, "Zoë 🚀");
	cr_assert_eq(pg_identity_set_friendly_name(st, a, "Alice = A. Smith"), 0);
	cr_assert_eq(pg_identity_get_friendly_name(st, a, fn), 0);
	cr_assert_str_eq(fn, "Alice = A. Smith");

	cr_assert_eq(pg_identity_delete(st, b), 0);
	cr_assert_eq(pg_identity_list(st, names, 4), 2);
	cr_assert_eq(pg_identity_delete(st, b), PG_E_IDENTITY_NOT_FOUND);
	cr_assert_eq(pg_identity_get_friendly_name(st, b, fn), PG_E_IDENTITY_NOT_FOUND);
	cr_assert_eq(pg_identity_set_friendly_name(st, b, "x"), PG_E_IDENTITY_NOT_FOUND);
	cr_assert_eq(pg_identity_delete(st, "0.chat"), PG_E_IDENTITY_NOT_FOUND);
	cr_assert_eq(pg_identity_delete(st, "../etc"), PG_E_PEERNAME);
}

Test(identity, default_identity_rules)
{
	char a[PG_PEERNAME_SIZE], b[PG_PEERNAME_SIZE], c[PG_PEERNAME_SIZE], d[PG_PEERNAME_SIZE];
	char def[PG_PEERNAME_SIZE];

	cr_assert_eq(pg_identity_get_default(st, def), PG_E_NO_DEFAULT);
	/* told not to: the first one does not become the default */
	create("a", NULL, PG_IDENTITY_NOT_DEFAULT, a);
	cr_assert_eq(pg_identity_get_default(st, def), PG_E_NO_DEFAULT);
	/* otherwise the first created while there is none does */
	create("b", NULL, 0, b);
	cr_assert_eq(pg_identity_get_default(st, def), 0);
	cr_assert_str_eq(def, b);
	create("c", NULL, 0, c);
	cr_assert_eq(pg_identity_get_default(st, def), 0);
	cr_assert_str_eq(def, b);
	create("d", NULL, PG_IDENTITY_MAKE_DEFAULT, d);
	cr_assert_eq(pg_identity_get_default(st, def), 0);
	cr_assert_str_eq(def, d);

	cr_assert_eq(pg_identity_set_default(st, a), 0);
	cr_assert_eq(pg_identity_get_default(st, def), 0);
	cr_assert_str_eq(def, a);
	cr_assert_eq(pg_identity_set_default(st, "0123456789012345678901234567890123456789.z"),
		     PG_E_IDENTITY_NOT_FOUND);
	cr_assert_eq(pg_identity_set_default(st, "nodot"), PG_E_PEERNAME);
	/* deleting another identity leaves the default; deleting the default clears it */
	cr_assert_eq(pg_identity_delete(st, c), 0);
	cr_assert_eq(pg_identity_get_default(st, def), 0);
	cr_assert_str_eq(def, a);
	cr_assert_eq(pg_identity_delete(st, a), 0);
	cr_assert_eq(pg_identity_get_default(st, def), PG_E_NO_DEFAULT);
	cr_assert_eq(access(store_dir, F_OK), 0);

	cr_assert_eq(pg_identity_set_default(st, b), 0);
	cr_assert_eq(pg_identity_set_default(st, NULL), 0);
	cr_assert_eq(pg_identity_get_default(st, def), PG_E_NO_DEFAULT);
}

/* --- limits (FEATURES.md §2) --- */

static char *repeat(const char *unit, int n)
{
	size_t u = strlen(unit);
	char *s = malloc(u * (size_t)n + 1);

	for (int i = 0; i < n; i++)
		memcpy(s + u * (size_t)i, unit, u);
	s[u * (size_t)n] = '\0';
	return s;
}

Test(identity, limits_table)
{
	const struct {
		int row;
		const char *unit; /* classifier = unit * n (NULL: "ok") */
		int n;
		const char *funit; /* friendly name = funit * fn (NULL: "") */
		int fn;
		int want;
	} rows[] = {
		{ 1, "a", 149, NULL, 0, 0 },
		{ 2, "a", 150, NULL, 0, PG_E_CLASSIFIER_LEN },
		{ 3, "", 1, NULL, 0, PG_E_CLASSIFIER_LEN },
		{ 4, "has space", 1, NULL, 0, PG_E_CLASSIFIER_CHAR },
		{ 5, "a/b", 1, NULL, 0, PG_E_CLASSIFIER_CHAR },
		{ 6, "a\\b", 1, NULL, 0, PG_E_CLASSIFIER_CHAR },
		{ 7, "tab\t", 1, NULL, 0, PG_E_CLASSIFIER_CHAR },
		{ 8, "caf\xc3\xa9", 1, NULL, 0, PG_E_CLASSIFIER_CHAR }, /* UTF-8 é */
		{ 9, "del\x7f", 1, NULL, 0, PG_E_CLASSIFIER_CHAR },
		{ 10, "a.b.c-_~!", 1, NULL, 0, 0 },
		{ 11, NULL, 0, "x", 255, 0 },
		{ 12, NULL, 0, "x", 256, PG_E_FRIENDLY_NAME_LEN },
		{ 13, NULL, 0, "\xc3\xa9", 255, 0 }, /* 255 code points, 510 bytes */
		{ 14, NULL, 0, "\xc3\xa9", 256, PG_E_FRIENDLY_NAME_LEN },
		{ 15, NULL, 0, "\xf0\x9f\x9a\x80", 255, 0 }, /* 4-byte code points: 1020 bytes */
		{ 16, NULL, 0, "\xf0\x9f\x9a\x80", 256, PG_E_FRIENDLY_NAME_LEN },
		{ 17, NULL, 0, "\xc3", 1, PG_E_BAD_UTF8 },	       /* truncated */
		{ 18, NULL, 0, "\xc0\xaf", 1, PG_E_BAD_UTF8 },	       /* overlong '/' */
		{ 19, NULL, 0, "\xed\xa0\x80", 1, PG_E_BAD_UTF8 },     /* surrogate */
		{ 20, NULL, 0, "\xf4\x90\x80\x80", 1, PG_E_BAD_UTF8 }, /* > U+10FFFF */
		{ 21, NULL, 0, "line\nbreak", 1, PG_E_FRIENDLY_NAME_CHAR },
		{ 22, NULL, 0, "\x7f", 1, PG_E_FRIENDLY_NAME_CHAR },
	};
	char *before = snapshot(store_dir);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *cl = rows[i].unit ? repeat(rows[i].unit, rows[i].n) : strdup("ok");
		char *fr = rows[i].funit ? repeat(rows[i].funit, rows[i].fn) : strdup("");
		char name[PG_PEERNAME_SIZE], got[PG_FRIENDLY_NAME_SIZE];
		struct pg_identity *id;
		int err = pg_identity_create(st, cl, fr, NULL, name);

		cr_assert_eq(err, rows[i].want, "row %d: got %s, want %s", rows[i].row,
			     pg_strerror_name(err), pg_strerror_name(rows[i].want));
		if (err == 0) {
			cr_assert_eq(pg_identity_open(st, name, &id), 0, "row %d", rows[i].row);
			cr_assert_str_eq(pg_identity_classifier(id), cl, "row %d", rows[i].row);
			cr_assert_str_eq(pg_identity_friendly_name(id), fr, "row %d", rows[i].row);
			pg_identity_close(id);
			cr_assert_eq(pg_identity_get_friendly_name(st, name, got), 0);
			cr_assert_str_eq(got, fr, "row %d", rows[i].row);
			cr_assert_eq(pg_identity_delete(st, name), 0);
		} else if (rows[i].funit) {
			/* set_friendly_name applies the same rule */
			create("setter", NULL, 0, name);
			cr_assert_eq(pg_identity_set_friendly_name(st, name, fr), rows[i].want,
				     "row %d (set)", rows[i].row);
			cr_assert_eq(pg_identity_delete(st, name), 0);
		}
		free(cl);
		free(fr);
	}
	cr_assert_eq(pg_identity_set_default(st, NULL), 0);
	assert_unchanged(before, "the limit rows");
	free(before);
}

/* --- peer names --- */

Test(identity, authority_is_sha1_of_openssl_spki)
{
	char name[PG_PEERNAME_SIZE], key[PATH_LEN], cmd[2 * PATH_LEN], out[512], hex[65];
	const uint8_t *spki, *pub, *kid;
	struct pg_identity *id;
	uint8_t sig[PG_IDENTITY_SIG_LEN];
	size_t spki_len;

	need_openssl();
	create("chat", NULL, 0, name);
	path_of(key, sizeof(key), name, "key.pem");
	snprintf(cmd, sizeof(cmd),
		 "openssl pkey -in %s -pubout -outform DER | openssl dgst -sha1 -r", key);
	cr_assert_eq(run(cmd, out, sizeof(out)), 0);
	cr_assert_eq(strlen(out) > 40 && out[40] == ' ', 1, "dgst said: %s", out);
	cr_assert_eq(memcmp(name, out, 40), 0, "peer name %s, openssl %.40s", name, out);
	cr_assert_eq(name[40], '.');
	cr_assert_str_eq(name + 41, "chat");

	cr_assert_eq(pg_identity_open(st, name, &id), 0);
	cr_assert_str_eq(pg_identity_peer_name(id), name);
	cr_assert_eq(memcmp(pg_identity_authority(id), out, 40), 0);
	/* the raw key is the SPKI's last 32 bytes; the key id is SHA-256 of it (openssl too) */
	spki = pg_identity_spki_der(id, &spki_len);
	pub = pg_identity_public_key(id);
	cr_assert_eq(spki_len, 44);
	cr_assert_eq(memcmp(spki + 12, pub, 32), 0);
	snprintf(cmd, sizeof(cmd),
		 "openssl pkey -in %s -pubout -outform DER | tail -c 32 | openssl dgst -sha256 -r",
		 key);
	cr_assert_eq(run(cmd, out, sizeof(out)), 0);
	kid = pg_identity_key_id(id);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", kid[i]);
	cr_assert_eq(memcmp(hex, out, 64), 0, "key id %s, openssl %.64s", hex, out);

	/* a signature made with the handle verifies under the SPKI */
	{
		const unsigned char *p = spki;
		EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki_len);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		cr_assert_eq(pg_identity_sign(id, "hello", 5, sig), 0);
		cr_assert_eq(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
		cr_assert_eq(EVP_DigestVerify(ctx, sig, sizeof(sig), (const uint8_t *)"hello", 5),
			     1);
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(pk);
	}
	pg_identity_close(id);
}

Test(identity, peer_name_parser)
{
	static const char hex40[] = "0123456789abcdef0123456789abcdef01234567";
	char buf[512], name[PG_PEERNAME_SIZE];
	struct pg_peername pn;
	char *c149 = repeat("c", 149), *c150 = repeat("c", 150);
	const struct {
		int row;
		bool hex;	  /* the name starts with hex40 */
		const char *text; /* then this */
		const char *tail; /* then "149" or "150" classifier bytes */
		int want;
	} rows[] = {
		{ 1, true, ".chat", "", 0 },
		{ 2, false, "0.chat", "", 0 },
		{ 3, true, ".a.b.c", "", 0 },
		{ 4, true, ".", "", PG_E_CLASSIFIER_LEN },
		{ 5, false, "", "", PG_E_PEERNAME },
		{ 6, false, "nodot", "", PG_E_PEERNAME },
		{ 7, false, ".chat", "", PG_E_PEERNAME },
		{ 8, false, "00.chat", "", PG_E_PEERNAME },
		{ 9, false, "0123456789ABCDEF0123456789ABCDEF01234567.chat", "", PG_E_PEERNAME },
		{ 10, false, "0123456789abcdef0123456789abcdef0123456.chat", "", PG_E_PEERNAME },
		{ 11, false, "0123456789abcdef0123456789abcdef012345678.chat", "", PG_E_PEERNAME },
		{ 12, false, "g123456789abcdef0123456789abcdef01234567.chat", "", PG_E_PEERNAME },
		{ 13, false, "1.chat", "", PG_E_PEERNAME },
		{ 14, false, "0.a b", "", PG_E_CLASSIFIER_CHAR },
		{ 15, false, "0.a/b", "", PG_E_CLASSIFIER_CHAR },
		{ 16, true, ".", "149", 0 },
		{ 17, true, ".", "150", PG_E_CLASSIFIER_LEN },
		{ 18, false, "0.", "150", PG_E_CLASSIFIER_LEN },
		{ 19, false, " 0.chat", "", PG_E_PEERNAME },
		{ 20, true, "x.chat", "", PG_E_PEERNAME }, /* 41 chars before the dot */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *tail = !strcmp(rows[i].tail, "149")	  ? c149
				   : !strcmp(rows[i].tail, "150") ? c150
								  : "";
		int err;

		snprintf(buf, sizeof(buf), "%s%s%s", rows[i].hex ? hex40 : "", rows[i].text, tail);
		err = pg_peername_parse(buf, &pn);
		cr_assert_eq(err, rows[i].want, "row %d (%s): got %s", rows[i].row, buf,
			     pg_strerror_name(err));
	}
	cr_assert_eq(pg_peername_parse("0.chat", &pn), 0);
	cr_assert_str_eq(pn.authority, "0");
	cr_assert_str_eq(pn.classifier, "chat");
	cr_assert_eq(pg_peername_is_secured(&pn), false);
	snprintf(buf, sizeof(buf), "%s.x.y", hex40);
	cr_assert_eq(pg_peername_parse(buf, &pn), 0);
	cr_assert_str_eq(pn.authority, hex40);
	cr_assert_str_eq(pn.classifier, "x.y");
	cr_assert_eq(pg_peername_is_secured(&pn), true);

	cr_assert_eq(pg_peername_unsecured("chat", name), 0);
	cr_assert_str_eq(name, "0.chat");
	cr_assert_eq(pg_peername_unsecured(c149, name), 0);
	cr_assert_eq(pg_peername_unsecured(c150, name), PG_E_CLASSIFIER_LEN);
	cr_assert_eq(pg_peername_unsecured("", name), PG_E_CLASSIFIER_LEN);
	free(c149);
	free(c150);
}

/* --- the identity certificate --- */

Test(identity, certificate_verifies_with_openssl)
{
	char *cl = repeat("q", 149);
	char name[PG_PEERNAME_SIZE], cert[PATH_LEN], cmd[3 * PATH_LEN], out[8192];
	struct pg_identity *id;
	ASN1_OCTET_STRING *ext;
	BASIC_CONSTRAINTS *bc;
	int64_t nb, na;
	time_t t;
	struct tm b, a;
	int crit = -1;
	X509 *x;

	need_openssl();
	create(cl, "long", 0, name);
	path_of(cert, sizeof(cert), name, "cert.pem");
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s 2>&1", cert, cert);
	cr_assert_eq(run(cmd, out, sizeof(out)), 0, "openssl verify: %s", out);
	cr_assert_not_null(strstr(out, ": OK"), "%s", out);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s -noout -text", cert);
	cr_assert_eq(run(cmd, out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "Version: 3 (0x2)"), "%s", out);
	cr_assert_not_null(strstr(out, "ED25519"), "%s", out);
	cr_assert_not_null(strstr(out, "CA:FALSE"), "%s", out);
	cr_assert_not_null(strstr(out, "Digital Signature"), "%s", out);
	cr_assert_not_null(strstr(out, "X509v3 Subject Key Identifier"), "%s", out);

	cr_assert_eq(pg_identity_open(st, name, &id), 0);
	x = pg_identity_cert(id);
	cr_assert_eq(X509_get_version(x), X509_VERSION_3);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	cr_assert_not_null(bc);
	cr_assert_eq(bc->ca, 0);
	cr_assert_eq(crit, 1, "basicConstraints must be critical");
	BASIC_CONSTRAINTS_free(bc);
	cr_assert_eq(X509_get_key_usage(x), (uint32_t)KU_DIGITAL_SIGNATURE);
	ext = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
	cr_assert_not_null(ext);
	ASN1_OCTET_STRING_free(ext);
	{
		X509_NAME *subj = X509_get_subject_name(x);
		char cn[256];

		cr_assert_eq(X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)),
			     (int)strlen(name));
		cr_assert_str_eq(cn, name);
	}
	/* DER and PEM accessors describe the same certificate */
	{
		size_t len;
		const uint8_t *der = pg_identity_cert_der(id, &len);
		BIO *bio = BIO_new_mem_buf(pg_identity_cert_pem(id), -1);
		X509 *y = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		unsigned char *yder = NULL;
		int ylen = i2d_X509(y, &yder);

		cr_assert_eq((size_t)ylen, len);
		cr_assert_eq(memcmp(der, yder, len), 0);
		OPENSSL_free(yder);
		X509_free(y);
		BIO_free(bio);
	}
	/* default validity: now .. now + 1000 years */
	pg_identity_validity(id, &nb, &na);
	cr_assert_leq(llabs((long long)(nb - (int64_t)time(NULL))), 60);
	t = (time_t)nb;
	gmtime_r(&t, &b);
	t = (time_t)na;
	gmtime_r(&t, &a);
	cr_assert_eq(a.tm_year - b.tm_year, 1000);
	pg_identity_close(id);
	free(cl);
}

Test(identity, validity_is_configurable)
{
	struct pg_identity_create_opts o = { .not_before = 1700000000,
					     .not_after = 1700000000 + 86400 };
	char name[PG_PEERNAME_SIZE];
	struct pg_identity *id;
	int64_t nb, na;

	cr_assert_eq(pg_identity_create(st, "short", NULL, &o, name), 0);
	cr_assert_eq(pg_identity_open(st, name, &id), 0);
	pg_identity_validity(id, &nb, &na);
	cr_assert_eq(nb, 1700000000);
	cr_assert_eq(na, 1700000000 + 86400);
	pg_identity_close(id);

	o.not_after = o.not_before;
	cr_assert_eq(pg_identity_create(st, "bad", NULL, &o, name), PG_E_VALIDITY);
	o.not_after = 253402300800LL; /* year 10000 */
	cr_assert_eq(pg_identity_create(st, "bad", NULL, &o, name), PG_E_VALIDITY);
	cr_assert_eq(pg_identity_list(st, NULL, 0), 1);
}

/* --- export / import --- */

static struct pg_identity_store *fresh_store(const char *sub)
{
	struct pg_identity_store *s;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	cr_assert_eq(pg_identity_store_open(dir, &s), 0);
	return s;
}

Test(identity, export_import_round_trip)
{
	char name[PG_PEERNAME_SIZE], got[PG_PEERNAME_SIZE], def[PG_PEERNAME_SIZE];
	char path[128], cmd[512];
	struct pg_identity *a, *b;
	struct pg_identity_store *other = fresh_store("other");
	const uint8_t *da, *db;
	size_t la, lb;
	struct stat sb;
	int err;

	need_openssl();
	create("chat", "Zoë", 0, name);
	export_one(name, path);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);

	/* the stock tool reads the key block and skips ours; a wrong password fails */
	snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -passin 'pass:%s' -noout 2>&1", path, PW);
	cr_assert_eq(run(cmd, NULL, 0), 0);
	snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -passin pass:wrong -noout 2>&1", path);
	cr_assert_neq(run(cmd, NULL, 0), 0);

	err = pg_identity_import(other, path, PW, 0, got);
	cr_assert_eq(err, 0, "%s (%s)", pg_strerror(err), pg_identity_store_errmsg(other));
	cr_assert_str_eq(got, name);
	cr_assert_eq(pg_identity_get_default(other, def), 0);
	cr_assert_str_eq(def, name);
	cr_assert_eq(pg_identity_open(st, name, &a), 0);
	cr_assert_eq(pg_identity_open(other, name, &b), 0);
	cr_assert_eq(memcmp(pg_identity_public_key(a), pg_identity_public_key(b), 32), 0);
	cr_assert_eq(EVP_PKEY_eq(pg_identity_pkey(a), pg_identity_pkey(b)), 1);
	cr_assert_str_eq(pg_identity_friendly_name(b), "Zoë");
	da = pg_identity_cert_der(a, &la);
	db = pg_identity_cert_der(b, &lb);
	cr_assert_eq(la, lb);
	cr_assert_eq(memcmp(da, db, la), 0, "the certificate travels unchanged");
	pg_identity_close(a);
	pg_identity_close(b);
	pg_identity_store_close(other);
}

Test(identity, import_refusals_leave_the_store_unchanged)
{
	char name[PG_PEERNAME_SIZE], path[128], link[128];
	struct pg_identity_store *other = fresh_store("other");
	char *before;

	create("chat", "x", 0, name);
	export_one(name, path);
	/* a clash: the identity is already here */
	before = snapshot(store_dir);
	cr_assert_eq(pg_identity_import(st, path, PW, 0, NULL), PG_E_IDENTITY_EXISTS);
	assert_unchanged(before, "a clashing import");
	free(before);

	pg_identity_store_close(st);
	st = other;
	snprintf(store_dir, sizeof(store_dir), "%s/other", tmp);
	before = snapshot(store_dir);
	cr_assert_eq(pg_identity_import(st, path, "wrong password", 0, NULL), PG_E_BAD_PASSWORD);
	assert_unchanged(before, "a wrong password");
	cr_assert_eq(pg_identity_import(st, path, "", 0, NULL), PG_E_PASSWORD_LEN);
	cr_assert_eq(pg_identity_import(st, "/nonexistent/x.pem", PW, 0, NULL), -ENOENT);
	assert_unchanged(before, "refused imports");
	free(before);
	/* the path the user gives may be a symlink */
	snprintf(link, sizeof(link), "%s/link.pem", tmp);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(pg_identity_import(st, link, PW, PG_IDENTITY_NOT_DEFAULT, NULL), 0);
	cr_assert_eq(pg_identity_import(st, path, PW, 0, NULL), PG_E_IDENTITY_EXISTS);
}

/* Finds the n-th byte of the body of the PEM block `label` in buf. */
static size_t body_offset(const uint8_t *buf, size_t len, const char *label, size_t n)
{
	char begin[64];
	const uint8_t *p;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----\n", label);
	p = memmem(buf, len, begin, strlen(begin));
	cr_assert_not_null(p, "%s", label);
	return (size_t)(p - buf) + strlen(begin) + n;
}

Test(identity, damaged_export_files_are_corrupt)
{
	char name[PG_PEERNAME_SIZE], path[128], bad[160];
	uint8_t *file;
	size_t len;
	char *before;

	create("chat", "Alice", 0, name);
	export_one(name, path);
	file = read_all(path, &len);
	cr_assert_gt(len, 600);
	snprintf(bad, sizeof(bad), "%s/bad.pem", tmp);
	pg_identity_store_close(st);
	st = fresh_store("other");
	snprintf(store_dir, sizeof(store_dir), "%s/other", tmp);
	before = snapshot(store_dir);

	const struct {
		int row;
		size_t cut;  /* truncate to this length, or */
		size_t flip; /* flip the low bit of this byte */
		int want;
	} rows[] = {
		{ 1, 1 + 0, 0, PG_E_EXPORT_CORRUPT }, /* cut is 1-based: 0 = no cut */
		{ 2, 1 + 1, 0, PG_E_EXPORT_CORRUPT },
		{ 3, 1 + len / 4, 0, PG_E_EXPORT_CORRUPT },
		{ 4, 1 + len / 2, 0, PG_E_EXPORT_CORRUPT },
		{ 5, 1 + 3 * len / 4, 0, PG_E_EXPORT_CORRUPT },
		{ 6, 1 + len - 40, 0, PG_E_EXPORT_CORRUPT },
		{ 7, 1 + len - 20, 0, PG_E_EXPORT_CORRUPT }, /* inside the last END line */
		{ 8, 0, 1 + body_offset(file, len, "ENCRYPTED PRIVATE KEY", 30),
		  PG_E_EXPORT_CORRUPT },
		{ 9, 0, 1 + body_offset(file, len, "ENCRYPTED PRIVATE KEY", 100),
		  PG_E_EXPORT_CORRUPT },
		{ 10, 0, 1 + body_offset(file, len, "CERTIFICATE", 40), PG_E_EXPORT_CORRUPT },
		{ 11, 0, 1 + body_offset(file, len, "PEERGRAPH IDENTITY", 40),
		  PG_E_EXPORT_CORRUPT },
		{ 12, 0, 1 + 12, PG_E_EXPORT_CORRUPT }, /* in "-----BEGIN ENCRYPTED" */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t *copy = malloc(len);
		size_t n = len;
		int err;

		memcpy(copy, file, len);
		if (rows[i].cut)
			n = rows[i].cut - 1;
		if (rows[i].flip)
			copy[rows[i].flip - 1] ^= 0x01;
		write_all(bad, copy, n);
		err = pg_identity_import(st, bad, PW, 0, NULL);
		cr_assert_eq(err, rows[i].want, "row %d: got %s (%s)", rows[i].row,
			     pg_strerror_name(err), pg_identity_store_errmsg(st));
		assert_unchanged(before, "a damaged file");
		free(copy);
	}
	/* not an export file at all */
	write_all(bad, "hello\n", 6);
	cr_assert_eq(pg_identity_import(st, bad, PW, 0, NULL), PG_E_EXPORT_CORRUPT);
	assert_unchanged(before, "a text file");
	free(before);
	free(file);
}

Test(identity, unknown_export_format_is_refused)
{
	char name[PG_PEERNAME_SIZE], path[128];
	unsigned char *data[3];
	char *names[3], *headers[3];
	long lens[3];
	BIO *in, *out;
	char *mem;
	long n;

	create("chat", NULL, 0, name);
	export_one(name, path);
	in = BIO_new_file(path, "r");
	for (int i = 0; i < 3; i++)
		cr_assert_eq(PEM_read_bio(in, &names[i], &headers[i], &data[i], &lens[i]), 1);
	BIO_free(in);
	cr_assert_eq(memcmp(data[2], "format=1\n", 9), 0);
	data[2][7] = '2';
	out = BIO_new(BIO_s_mem());
	for (int i = 0; i < 3; i++) {
		cr_assert_gt(PEM_write_bio(out, names[i], headers[i], data[i], lens[i]), 0);
		OPENSSL_free(names[i]);
		OPENSSL_free(headers[i]);
		OPENSSL_free(data[i]);
	}
	n = BIO_get_mem_data(out, &mem);
	write_all(path, mem, (size_t)n);
	BIO_free(out);
	cr_assert_eq(pg_identity_delete(st, name), 0);
	cr_assert_eq(pg_identity_import(st, path, PW, 0, NULL), PG_E_EXPORT_FORMAT);
	cr_assert_eq(pg_identity_list(st, NULL, 0), 0);
}

/* --- file modes --- */

static int mode_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D)
		cr_assert_eq(sb->st_mode & 07777, 0700, "%s is %o", path, sb->st_mode & 07777);
	else
		cr_assert_eq(sb->st_mode & 07777, 0600, "%s is %o", path, sb->st_mode & 07777);
	return 0;
}

Test(identity, written_files_are_0600_whatever_the_umask)
{
	char a[PG_PEERNAME_SIZE], b[PG_PEERNAME_SIZE], path[128];
	mode_t old = umask(0);

	create("a", "x", 0, a);
	create("b", "y", 0, b);
	cr_assert_eq(pg_identity_set_friendly_name(st, a, "z"), 0);
	cr_assert_eq(pg_identity_set_default(st, b), 0);
	export_one(a, path);
	umask(old);
	cr_assert_eq(nftw(store_dir, mode_entry, 16, FTW_PHYS), 0);
}

Test(identity, readable_key_file_is_refused_with_the_fix)
{
	char name[PG_PEERNAME_SIZE], key[PATH_LEN], path[128], fix[PATH_LEN + 16];
	struct pg_identity *id;
	const mode_t bad[] = { 0644, 0640, 0604, 0660 };

	create("chat", NULL, 0, name);
	path_of(key, sizeof(key), name, "key.pem");
	snprintf(fix, sizeof(fix), "chmod 600 %s", key);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(chmod(key, bad[i]), 0);
		cr_assert_eq(pg_identity_open(st, name, &id), PG_E_KEY_PERMS, "mode %o", bad[i]);
		cr_assert_not_null(strstr(pg_identity_store_errmsg(st), fix), "message: %s",
				   pg_identity_store_errmsg(st));
		cr_assert_not_null(strstr(pg_strerror(PG_E_KEY_PERMS), "chmod 600"));
		snprintf(path, sizeof(path), "%s/x.pem", tmp);
		cr_assert_eq(pg_identity_export(st, name, path, PW), PG_E_KEY_PERMS);
	}
	cr_assert_eq(chmod(key, 0600), 0);
	cr_assert_eq(pg_identity_open(st, name, &id), 0);
	pg_identity_close(id);
	cr_assert_eq(chmod(key, 0400), 0);
	cr_assert_eq(pg_identity_open(st, name, &id), 0);
	pg_identity_close(id);
}

/* --- consistency and crash leftovers --- */

Test(identity, swapped_files_are_detected)
{
	char a[PG_PEERNAME_SIZE], b[PG_PEERNAME_SIZE], from[PATH_LEN], to[PATH_LEN];
	struct pg_identity *id;

	create("a", NULL, 0, a);
	create("b", NULL, 0, b);
	/* b's certificate in a's directory */
	path_of(from, sizeof(from), b, "cert.pem");
	path_of(to, sizeof(to), a, "cert.pem");
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(pg_identity_open(st, a, &id), PG_E_IDENTITY_CORRUPT);
	cr_assert_eq(pg_identity_open(st, b, &id), PG_E_IDENTITY_CORRUPT);
	/* b's key under a's name: the authority no longer matches */
	path_of(from, sizeof(from), b, "key.pem");
	path_of(to, sizeof(to), a, "key.pem");
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(pg_identity_open(st, a, &id), PG_E_IDENTITY_CORRUPT);
}

Test(identity, leftovers_of_a_crash_are_removed_on_open)
{
	char name[PG_PEERNAME_SIZE], dir[PATH_LEN], file[PATH_LEN + 16];
	struct pg_identity_store *again;

	create("chat", NULL, 0, name);
	snprintf(dir, sizeof(dir), "%s/.new.tmp-0011223344556677", store_dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/key.pem", dir);
	write_all(file, "half", 4);
	snprintf(file, sizeof(file), "%s/.default.tmp-0011223344556677", store_dir);
	write_all(file, "half", 4);
	cr_assert_eq(pg_identity_list(st, NULL, 0), 1);
	cr_assert_eq(pg_identity_store_open(store_dir, &again), 0);
	cr_assert_eq(access(dir, F_OK), -1);
	cr_assert_eq(access(file, F_OK), -1);
	cr_assert_eq(pg_identity_list(again, NULL, 0), 1);
	pg_identity_store_close(again);
}
