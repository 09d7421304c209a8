/* SPDX-License-Identifier: ISC */
/*
 * The meta file: "feedcache-meta 1", then "key value" lines. Read with
 * the same care as anything from outside: a cache directory can be
 * written by other programs, and a truncated or edited meta file must
 * give an error, not a crash or a wrong schedule.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "hex.h"
#include "meta.h"
#include "parse.h"
#include "timeutil.h"

static const char *const result_names[RESULT_MAX] = {
    [RESULT_NONE] = "none",
    [RESULT_UPDATED] = "updated",
    [RESULT_UNCHANGED] = "unchanged",
    [RESULT_NOT_MODIFIED] = "not_modified",
    [RESULT_HTTP_ERROR] = "http_error",
    [RESULT_RATE_LIMITED] = "rate_limited",
    [RESULT_NETWORK] = "network",
    [RESULT_TIMEOUT] = "timeout",
    [RESULT_TOO_LARGE] = "too_large",
    [RESULT_INVALID] = "invalid",
    [RESULT_REDIRECT] = "redirect",
    [RESULT_REFUSED] = "refused",
    [RESULT_LOCAL] = "local",
};

const char *
fetch_result_name(enum fetch_result r)
{
	return r < RESULT_MAX ? result_names[r] : "?";
}

bool
fetch_result_ok(enum fetch_result r)
{
	return r == RESULT_UPDATED || r == RESULT_UNCHANGED ||
	       r == RESULT_NOT_MODIFIED;
}

static int
parse_i64(const char *s, int64_t *out)
{
	uint64_t v;
	int rc = parse_u64(s, 0, INT64_MAX, &v);

	if (rc == 0)
		*out = (int64_t)v;
	return rc;
}

static int
copy_text(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -EINVAL;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static bool
is_hex_hash(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s != '\0'; s++)
		if (hex_digit(*s, false) < 0)
			return false;
	return true;
}

/* One "key value" line; value may be empty. */
static int
meta_set(struct feed_meta *m, const char *key, const char *value)
{
	uint32_t u32;

	if (strcmp(key, "etag") == 0)
		return copy_text(m->etag, sizeof(m->etag), value);
	if (strcmp(key, "last_modified") == 0)
		return copy_text(
		    m->last_modified, sizeof(m->last_modified), value);
	if (strcmp(key, "content_type") == 0)
		return copy_text(
		    m->content_type, sizeof(m->content_type), value);
	if (strcmp(key, "hash") == 0) {
		if (value[0] != '\0' && !is_hex_hash(value))
			return -EINVAL;
		return copy_text(m->hash, sizeof(m->hash), value);
	}
	if (strcmp(key, "last_error") == 0)
		return copy_text(m->last_error, sizeof(m->last_error), value);
	if (strcmp(key, "origin") == 0)
		return copy_text(m->origin, sizeof(m->origin), value);
	if (strcmp(key, "origin_class") == 0)
		return copy_text(
		    m->origin_class, sizeof(m->origin_class), value);
	if (strcmp(key, "size") == 0)
		return parse_u64(value, 0, UINT64_MAX, &m->size);
	if (strcmp(key, "body_ino") == 0)
		return parse_u64(value, 0, UINT64_MAX, &m->body_ino);
	if (strcmp(key, "body_mtime_ns") == 0)
		return parse_i64(value, &m->body_mtime_ns);
	if (strcmp(key, "bytes") == 0)
		return parse_u64(value, 0, UINT64_MAX, &m->bytes);
	if (strcmp(key, "fetched") == 0)
		return parse_i64(value, &m->fetched);
	if (strcmp(key, "checked") == 0)
		return parse_i64(value, &m->checked);
	if (strcmp(key, "attempted") == 0)
		return parse_i64(value, &m->attempted);
	if (strcmp(key, "next_due") == 0)
		return parse_i64(value, &m->next_due);
	if (strcmp(key, "retry_after") == 0)
		return parse_i64(value, &m->retry_after);
	if (strcmp(key, "failures") == 0) {
		int rc = parse_u32(value, 0, UINT32_MAX, &u32);

		if (rc == 0)
			m->failures = u32;
		return rc;
	}
	if (strcmp(key, "last_result") == 0) {
		for (int r = 0; r < RESULT_MAX; r++) {
			if (strcmp(value, result_names[r]) == 0) {
				m->last_result = (enum fetch_result)r;
				return 0;
			}
		}
		return -EINVAL;
	}
	if (strncmp(key, "requests.", 9) == 0) {
		for (int r = 0; r < RESULT_MAX; r++) {
			if (strcmp(key + 9, result_names[r]) == 0)
				return parse_u64(
				    value, 0, UINT64_MAX, &m->requests[r]);
		}
		return 0; /* a result this version does not know */
	}
	return 0; /* a key from a newer version */
}

int
meta_parse(const char *buf, size_t len, struct feed_meta *out)
{
	struct feed_meta m;
	char line[1024];
	const char *p = buf, *end = buf + len;
	bool first = true;

	memset(&m, 0, sizeof(m));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		char *sp;

		/* Every line ends with a newline: a cut file is an error. */
		if (nl == NULL || n >= sizeof(line) || memchr(p, '\0', n))
			return -EINVAL;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (first) {
			if (strcmp(line, META_MAGIC) != 0)
				return -EINVAL;
			first = false;
			continue;
		}
		if ((sp = strchr(line, ' ')) == NULL)
			return -EINVAL;
		*sp = '\0';
		if (meta_set(&m, line, sp + 1) < 0)
			return -EINVAL;
	}
	if (first)
		return -EINVAL;
	*out = m;
	return 0;
}

/* Appends "key value\n" with value cut at the first CR or LF. */
static void
put_text(
    char *buf, size_t size, size_t *len, const char *key, const char *value)
{
	int n = snprintf(buf + *len, *len < size ? size - *len : 0, "%s %.*s\n",
	    key, (int)strcspn(value, "\r\n"), value);

	*len += n > 0 ? (size_t)n : 0;
}

static void
put_num(char *buf, size_t size, size_t *len, const char *key, int64_t v)
{
	int n = snprintf(buf + *len, *len < size ? size - *len : 0,
	    "%s %" PRId64 "\n", key, v < 0 ? 0 : v);

	*len += n > 0 ? (size_t)n : 0;
}

int
meta_format(const struct feed_meta *m, char *buf, size_t size)
{
	char key[64];
	size_t len = 0;

	len = (size_t)snprintf(buf, size, "%s\n", META_MAGIC);
	put_text(buf, size, &len, "etag", m->etag);
	put_text(buf, size, &len, "last_modified", m->last_modified);
	put_text(buf, size, &len, "content_type", m->content_type);
	put_text(buf, size, &len, "hash", m->hash);
	put_num(buf, size, &len, "size", (int64_t)m->size);
	put_num(buf, size, &len, "body_ino", (int64_t)m->body_ino);
	put_num(buf, size, &len, "body_mtime_ns", m->body_mtime_ns);
	put_num(buf, size, &len, "fetched", m->fetched);
	put_num(buf, size, &len, "checked", m->checked);
	put_num(buf, size, &len, "attempted", m->attempted);
	put_num(buf, size, &len, "next_due", m->next_due);
	put_num(buf, size, &len, "retry_after", m->retry_after);
	put_num(buf, size, &len, "failures", m->failures);
	put_text(
	    buf, size, &len, "last_result", fetch_result_name(m->last_result));
	put_text(buf, size, &len, "last_error", m->last_error);
	put_text(buf, size, &len, "origin", m->origin);
	put_text(buf, size, &len, "origin_class", m->origin_class);
	put_num(buf, size, &len, "bytes", (int64_t)m->bytes);
	for (int r = 0; r < RESULT_MAX; r++) {
		snprintf(key, sizeof(key), "requests.%s", result_names[r]);
		put_num(buf, size, &len, key, (int64_t)m->requests[r]);
	}
	if (len >= size)
		return -ENOBUFS;
	return (int)len;
}

int
meta_load(const char *path, struct feed_meta *m)
{
	char buf[META_MAX_SIZE];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(buf))
		return -EFBIG;
	return meta_parse(buf, (size_t)n, m);
}

/*
 * The temporary file has a fixed name (.NAME.meta.tmp), which is safe
 * because every caller holds the feed's lock: a writer killed half-way
 * leaves one file that the next one reuses, not one more each time.
 */
int
meta_save(const char *path, const struct feed_meta *m, uint32_t mode)
{
	return meta_save_group(path, m, mode, (gid_t)-1);
}

int
meta_save_group(
    const char *path, const struct feed_meta *m, uint32_t mode, gid_t group)
{
	char buf[META_MAX_SIZE];
	struct atomic_file af;
	int n = meta_format(m, buf, sizeof(buf)), rc;

	if (n < 0)
		return n;
	/* Callers hold the feed's lock: the fixed temporary name is theirs
	 * alone, and one left by a killed writer is reused, not piled up. */
	if ((rc = atomic_file_open_fixed(&af, path, mode & 0666)) < 0)
		return rc;
	/* No fsync: a meta file lost to a power cut costs one full GET. */
	af.sync = ATOMIC_SYNC_NONE;
	if (group != (gid_t)-1 && fchown(af.fd, (uid_t)-1, group) < 0) {
		rc = -errno;
		atomic_file_abort(&af);
		return rc;
	}
	if ((rc = atomic_file_write(&af, buf, (size_t)n)) < 0) {
		atomic_file_abort(&af);
		return rc;
	}
	return atomic_file_commit(&af);
}

void
text_strip_controls(char *s)
{
	char *out = s;

	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			*out++ = *s;
	*out = '\0';
}

void
meta_stats(const struct feed_meta *m, struct feed_stats *s)
{
	s->checked = m->checked;
	s->failures = m->failures;
	s->have_copy = m->hash[0] != '\0';
	s->size = m->size;
	s->bytes = m->bytes;
	memcpy(s->requests, m->requests, sizeof(s->requests));
}

static int64_t
mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * (int64_t)NSEC_PER_SEC +
	       st->st_mtim.tv_nsec;
}

void
meta_set_body(
    struct feed_meta *m, const char *hash, uint64_t size, const struct stat *st)
{
	snprintf(m->hash, sizeof(m->hash), "%s", hash);
	m->size = size;
	m->body_ino = (uint64_t)st->st_ino;
	m->body_mtime_ns = mtime_ns(st);
}

bool
meta_describes(const struct feed_meta *m, const struct stat *st)
{
	return m->hash[0] != '\0' && S_ISREG(st->st_mode) &&
	       (uint64_t)st->st_ino == m->body_ino &&
	       (uint64_t)st->st_size == m->size &&
	       mtime_ns(st) == m->body_mtime_ns;
}
