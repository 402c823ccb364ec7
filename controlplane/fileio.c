/*
 * fileio.c - all-or-nothing small files and flat directories (see fileio.h).
 *
 * The pattern is the classic one for durable replacement on POSIX file systems: write a temp
 * file in the target's directory, fsync it, rename() it over the target (atomic within one
 * directory), then fsync the directory so the rename itself survives a crash. Temp names are
 * dot-files with a random suffix, so they never look like store entries and never collide.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fileio.h"
#include "pg_assert.h"
#include "pg_error.h"

enum {
	DIR_REMOVE_MAX = 64, /* entries a flat store directory may hold before we stop */
};

static int temp_name(const char *tag, char out[PG_FILE_TEMP_NAME_MAX])
{
	uint8_t r[8];
	int n;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return errno ? -errno : -EIO;
	n = snprintf(out, PG_FILE_TEMP_NAME_MAX, ".%.24s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", tag,
		     r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	PG_ASSERT(n > 0 && n < PG_FILE_TEMP_NAME_MAX);
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates dirfd/name exclusively with mode 0600, writes and fsyncs it. */
static int create_and_write(int dirfd, const char *name, const void *buf, size_t len)
{
	int fd, err;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* umask can only clear bits, but be explicit: 0600 whatever it was */
	if (fchmod(fd, 0600) < 0)
		goto err_unlink;
	err = write_all(fd, buf, len);
	if (err) {
		errno = -err;
		goto err_unlink;
	}
	if (fsync(fd) < 0)
		goto err_unlink;
	if (close(fd) < 0) {
		fd = -1;
		goto err_unlink;
	}
	return 0;

err_unlink:
	err = -errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, name, 0);
	return err;
}

int pg_file_write_new(int dirfd, const char *name, const void *buf, size_t len)
{
	return create_and_write(dirfd, name, buf, len);
}

int pg_file_write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[PG_FILE_TEMP_NAME_MAX];
	int err = -EEXIST;

	for (int i = 0; i < PG_FILE_TRIES && err == -EEXIST; i++) {
		err = temp_name(name, tmp);
		if (err)
			return err;
		err = create_and_write(dirfd, tmp, buf, len);
	}
	if (err)
		return err;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto err_unlink_temp;
	return pg_dir_sync(dirfd);

err_unlink_temp:
	err = -errno;
	unlinkat(dirfd, tmp, 0);
	return err;
}

int pg_file_write_atomic_path(const char *path, const void *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int dirfd, err;

	if (!slash) {
		dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);

		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0)
		return -errno;
	if (slash && slash[1] == '\0')
		err = -EISDIR;
	else
		err = pg_file_write_atomic(dirfd, slash ? slash + 1 : path, buf, len);
	close(dirfd);
	return err;
}

int pg_file_read(int dirfd, const char *name, size_t max, mode_t mode_mask, uint8_t **buf,
		 size_t *len, mode_t *mode)
{
	struct stat st;
	uint8_t *data;
	size_t got = 0;
	int fd, err;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0)
		goto err_close;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto err_close;
	}
	if (mode)
		*mode = st.st_mode & 07777;
	if (st.st_mode & mode_mask) {
		close(fd);
		return PG_E_KEY_PERMS;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto err_close;
	}
	data = OPENSSL_zalloc((size_t)st.st_size + 1);
	if (!data) {
		errno = ENOMEM;
		goto err_close;
	}
	/* read to EOF, but never past the size fstat reported (the file may grow meanwhile) */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			pg_file_free(data, (size_t)st.st_size + 1);
			close(fd);
			return err;
		}
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	*buf = data;
	*len = got;
	return 0;

err_close:
	err = -errno;
	close(fd);
	return err;
}

void pg_file_free(uint8_t *buf, size_t len)
{
	/* +1: the NUL pg_file_read appends */
	if (buf)
		OPENSSL_clear_free(buf, len + 1);
}

int pg_dir_make_temp(int dirfd, const char *tag, char name[PG_FILE_TEMP_NAME_MAX])
{
	for (int i = 0; i < PG_FILE_TRIES; i++) {
		int err = temp_name(tag, name);

		if (err)
			return err;
		if (mkdirat(dirfd, name, 0700) == 0) {
			int fd =
			    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (fd < 0 || fchmod(fd, 0700) < 0) {
				err = -errno;
				if (fd >= 0)
					close(fd);
				unlinkat(dirfd, name, AT_REMOVEDIR);
				return err;
			}
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int pg_dir_remove_flat(int dirfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, err = 0, seen = 0;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++seen > DIR_REMOVE_MAX) {
			err = -E2BIG;
			break;
		}
		if (unlinkat(fd, de->d_name, 0) < 0 && !err)
			err = -errno;
	}
	closedir(d);
	if (err)
		return err;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		return -errno;
	return 0;
}

int pg_dir_sync(int dirfd)
{
	return fsync(dirfd) < 0 ? -errno : 0;
}
