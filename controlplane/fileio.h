/*
 * fileio.h - small durable files for the control plane's on-disk state (the identity store).
 *
 * Every write is all-or-nothing: the bytes go to a temp file in the same directory, which is
 * fsynced, renamed over the target, and then the directory is fsynced, so a crash leaves
 * either the old file or the new one. Every file written is mode 0600 regardless of umask.
 * Reads are bounded and never follow a symlink in the last component.
 */
#ifndef PG_FILEIO_H
#define PG_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	PG_FILE_TEMP_NAME_MAX = 64, /* temp names: ".<tag>.tmp-<16 hex>" */
	PG_FILE_TRIES = 16,	    /* random temp names tried before giving up */
};

/* Writes buf to dirfd/name atomically (temp, fsync, rename, fsync dir), mode 0600. 0 or -errno. */
int pg_file_write_atomic(int dirfd, const char *name, const void *buf, size_t len);

/* Like pg_file_write_atomic, for a path (relative to the cwd or absolute). 0 or -errno. */
int pg_file_write_atomic_path(const char *path, const void *buf, size_t len);

/* Creates dirfd/name (must not exist), writes buf, fsyncs; mode 0600. 0 or -errno. */
int pg_file_write_new(int dirfd, const char *name, const void *buf, size_t len);

/*
 * Reads dirfd/name (a regular file, not a symlink) of at most max bytes into a new buffer
 * (NUL-terminated; free with pg_file_free). If mode_mask is non-zero and the file's mode has
 * any of those bits, nothing is read and PG_E_KEY_PERMS is returned with *mode set.
 * 0, -ENOENT, -EFBIG (over max), -EINVAL (not a regular file), PG_E_KEY_PERMS or -errno.
 */
int pg_file_read(int dirfd, const char *name, size_t max, mode_t mode_mask, uint8_t **buf,
		 size_t *len, mode_t *mode);

/* Wipes and frees a buffer from pg_file_read. */
void pg_file_free(uint8_t *buf, size_t len);

/* Creates a fresh directory dirfd/.<tag>.tmp-<random>, mode 0700; its name goes to
 * name[PG_FILE_TEMP_NAME_MAX]. 0 or -errno. */
int pg_dir_make_temp(int dirfd, const char *tag, char name[PG_FILE_TEMP_NAME_MAX]);

/* Removes dirfd/name and the plain files in it (no subdirectories). 0 or -errno. */
int pg_dir_remove_flat(int dirfd, const char *name);

/* fsyncs a directory. 0 or -errno. */
int pg_dir_sync(int dirfd);

#endif
