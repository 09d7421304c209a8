/* SPDX-License-Identifier: ISC */
/*
 * INI configuration with typed key tables: the glue between inih, which
 * splits lines, and the key tables of config.h, which say what they mean.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ini.h"

#include "config.h"
#include "parse.h"
#include "readfile.h"

/* Key tables are small; seen keys are tracked in a fixed array. */
#define CONF_MAX_KEYS 64

/* Blanks around section names, as inih's isspace() sees them. */
#define CONF_BLANK " \t\v\f"

/* How much of a bad value is quoted back in a message. */
#define CONF_QUOTE_MAX 60

/* A "[NAME INSTANCE]" already seen, to refuse it a second time. */
struct conf_seen {
	size_t section;
	char *instance;
	unsigned line;
};

/* Hands inih one line at a time out of the caller's buffer. */
struct conf_reader {
	const char *next;
	size_t left;
	const char *line; /* the line last handed out, without "\r\n" */
	size_t line_len;
};

struct conf_parser {
	const char *name;
	const struct conf_section *sections;
	size_t nsections;
	void *ctx;
	struct conf_error *err;
	struct conf_reader reader;
	int rc; /* set by the handler when it stops the parse */

	/* The section being filled; cur is NULL before the first header. */
	const struct conf_section *cur;
	void *cur_obj;
	unsigned cur_line;
	char cur_label[128]; /* "feed news", for messages */
	unsigned key_line[CONF_MAX_KEYS]; /* 0: not seen yet */

	unsigned *singleton_line; /* per section; 0: not seen yet */
	struct conf_seen *seen;
	size_t nseen, seen_cap;
};

/* conf_error_set() with a va_list, for conf_fail() too. */
static void conf_error_vset(struct conf_error *err, const char *file,
    unsigned line, const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
conf_error_vset(struct conf_error *err, const char *file, unsigned line,
    const char *key, const char *fmt, va_list ap)
{
	size_t size = sizeof(err->msg);
	int n;

	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");

	/* file and key are bounded by their arrays: the prefix always fits. */
	if (line > 0 && err->key[0] != '\0')
		n = snprintf(
		    err->msg, size, "%s:%u: %s: ", err->file, line, err->key);
	else if (line > 0)
		n = snprintf(err->msg, size, "%s:%u: ", err->file, line);
	else if (err->key[0] != '\0')
		n = snprintf(err->msg, size, "%s: %s: ", err->file, err->key);
	else
		n = snprintf(err->msg, size, "%s: ", err->file);
	if (n < 0 || (size_t)n >= size)
		return;
	vsnprintf(err->msg + n, size - (size_t)n, fmt, ap);
}

void
conf_error_set(struct conf_error *err, const char *file, unsigned line,
    const char *key, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	conf_error_vset(err, file, line, key, fmt, ap);
	va_end(ap);
}

/*
 * Copies at most CONF_QUOTE_MAX bytes of value into out for quoting in a
 * message, with control characters replaced by '?' so that a log line
 * cannot be forged from a config file. Marks a cut with "...".
 */
static const char *
conf_quote(const char *value, char *out, size_t out_size)
{
	size_t i, n = 0, limit = out_size - 4;

	if (limit > CONF_QUOTE_MAX)
		limit = CONF_QUOTE_MAX;
	for (i = 0; value[i] != '\0' && n < limit; i++) {
		unsigned char c = (unsigned char)value[i];
		out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (value[i] != '\0') {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Writes ns as the largest unit that divides it exactly: "90s", "5m". */
static void
conf_format_duration(uint64_t ns, char *out, size_t out_size)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
	    {"d", UINT64_C(86400000000000)},
	    {"h", UINT64_C(3600000000000)},
	    {"m", UINT64_C(60000000000)},
	    {"s", UINT64_C(1000000000)},
	    {"ms", UINT64_C(1000000)},
	    {"us", UINT64_C(1000)},
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns != 0 && ns % units[i].ns == 0) {
			snprintf(out, out_size, "%" PRIu64 "%s",
			    ns / units[i].ns, units[i].unit);
			return;
		}
	}
	snprintf(out, out_size, "%" PRIu64 "ns", ns);
}

/* Writes bytes as the largest binary unit that divides it: "64K", "1G". */
static void
conf_format_size(uint64_t bytes, char *out, size_t out_size)
{
	static const char units[] = "TGMK";
	size_t i;

	for (i = 0; i < 4; i++) {
		unsigned shift = (unsigned)(4 - i) * 10;
		if (bytes != 0 && bytes % (UINT64_C(1) << shift) == 0) {
			snprintf(out, out_size, "%" PRIu64 "%c", bytes >> shift,
			    units[i]);
			return;
		}
	}
	snprintf(out, out_size, "%" PRIu64, bytes);
}

static size_t
conf_key_count(const struct conf_key *keys)
{
	size_t n = 0;

	while (keys != NULL && keys[n].name != NULL)
		n++;
	return n;
}

/* Stops the parse: stores rc and the message; returns 0 for inih. */
static int conf_fail(struct conf_parser *p, int rc, unsigned line,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
conf_fail(struct conf_parser *p, int rc, unsigned line, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_error_vset(p->err, p->name, line, key, fmt, ap);
	va_end(ap);
	p->rc = rc;
	return 0;
}

/*
 * Ends the section being filled: every required key must have been
 * given. A missing one is reported on the line of the section header.
 * Returns 1, or 0 with the parse stopped.
 */
static int
conf_section_end(struct conf_parser *p)
{
	const struct conf_key *k;
	size_t i;

	if (p->cur == NULL)
		return 1;
	for (i = 0, k = p->cur->keys; k[i].name != NULL; i++) {
		if (k[i].required && p->key_line[i] == 0)
			return conf_fail(p, -EINVAL, p->cur_line, k[i].name,
			    "required key missing from section [%s]; add "
			    "'%s = ...' to it.",
			    p->cur_label, k[i].name);
	}
	p->cur = NULL;
	p->cur_obj = NULL;
	return 1;
}

/* Lists the known sections, "[feedcache], [feed NAME]", into out. */
static void
conf_known_sections(const struct conf_parser *p, char *out, size_t out_size)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < p->nsections && n < out_size; i++) {
		int w = snprintf(out + n, out_size - n, "%s[%s%s]",
		    i > 0 ? ", " : "", p->sections[i].name,
		    p->sections[i].named ? " NAME" : "");
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/*
 * Records that [section instance] was seen on line, or returns the line
 * it was first seen on. Returns 0 when new, the earlier line when a
 * duplicate, or -ENOMEM.
 */
static long
conf_seen_named(
    struct conf_parser *p, size_t section, const char *instance, unsigned line)
{
	struct conf_seen *grown;
	size_t i;

	for (i = 0; i < p->nseen; i++) {
		if (p->seen[i].section == section &&
		    strcmp(p->seen[i].instance, instance) == 0)
			return (long)p->seen[i].line;
	}
	if (p->nseen == p->seen_cap) {
		size_t cap = p->seen_cap ? p->seen_cap * 2 : 8;
		grown = reallocarray(p->seen, cap, sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		p->seen = grown;
		p->seen_cap = cap;
	}
	p->seen[p->nseen].instance = strdup(instance);
	if (p->seen[p->nseen].instance == NULL)
		return -ENOMEM;
	p->seen[p->nseen].section = section;
	p->seen[p->nseen].line = line;
	p->nseen++;
	return 0;
}

/*
 * Starts the section whose header is the raw line in the reader:
 * "[NAME]" or "[NAME INSTANCE]", spaces around either trimmed. The raw
 * line is used rather than inih's copy, which inih cuts at
 * INI_MAX_SECTION bytes without saying so.
 */
static int
conf_section_begin(struct conf_parser *p, unsigned line)
{
	const struct conf_section *s = NULL;
	char *header, *name, *instance, *end, *rest;
	char why[256], known[256];
	size_t i, len;
	long first;
	void *obj;

	if (!conf_section_end(p))
		return 0;

	/* inih hands over only lines that start with '[' and hold a ']'. */
	header = strndup(p->reader.line, p->reader.line_len);
	if (header == NULL)
		return conf_fail(p, -ENOMEM, line, NULL, "out of memory.");
	name = header + strspn(header, CONF_BLANK);
	end = strchr(name, ']');
	if (*name != '[' || end == NULL) {
		free(header);
		return conf_fail(
		    p, -EINVAL, line, NULL, "cannot read the section header.");
	}
	rest = end + 1;
	*end = '\0';
	if (rest[strspn(rest, CONF_BLANK)] != '\0') {
		free(header);
		return conf_fail(p, -EINVAL, line, NULL,
		    "text after ']' in a section header; comments go on "
		    "a line of their own.");
	}
	name++;
	name += strspn(name, CONF_BLANK);
	len = strlen(name);
	while (len > 0 && strchr(CONF_BLANK, name[len - 1]) != NULL)
		name[--len] = '\0';
	instance = name + strcspn(name, CONF_BLANK);
	if (*instance != '\0') {
		*instance++ = '\0';
		instance += strspn(instance, CONF_BLANK);
	} else {
		instance = NULL;
	}

	for (i = 0; i < p->nsections; i++) {
		if (strcmp(p->sections[i].name, name) == 0) {
			s = &p->sections[i];
			break;
		}
	}
	if (s == NULL) {
		conf_known_sections(p, known, sizeof(known));
		conf_fail(p, -EINVAL, line, NULL,
		    "unknown section [%s]; known sections are %s.", name,
		    known);
		goto out;
	}
	if (s->named && instance == NULL) {
		conf_fail(p, -EINVAL, line, NULL,
		    "section [%s] needs a name: [%s NAME].", name, name);
		goto out;
	}
	if (!s->named && instance != NULL) {
		conf_fail(p, -EINVAL, line, NULL,
		    "section [%s] takes no name; write [%s].", name, name);
		goto out;
	}
	if (instance != NULL) {
		snprintf(p->cur_label, sizeof(p->cur_label), "%s %s", name,
		    instance);
		first = conf_seen_named(p, i, instance, line);
	} else {
		snprintf(p->cur_label, sizeof(p->cur_label), "%s", name);
		first = p->singleton_line[i];
		if (first == 0)
			p->singleton_line[i] = line;
	}
	if (first < 0) {
		conf_fail(p, (int)first, line, NULL, "out of memory.");
		goto out;
	}
	if (first > 0) {
		conf_fail(p, -EINVAL, line, NULL,
		    "section [%s] given twice (first on line %ld).",
		    p->cur_label, first);
		goto out;
	}
	if (conf_key_count(s->keys) > CONF_MAX_KEYS) {
		conf_fail(p, -EINVAL, line, NULL,
		    "section [%s] has more than %d keys in its table.", name,
		    CONF_MAX_KEYS);
		goto out;
	}

	why[0] = '\0';
	/* No open(): a singleton section stored in the context itself. */
	obj = s->open != NULL ? s->open(p->ctx, instance, why, sizeof(why))
	                      : p->ctx;
	if (obj == NULL) {
		conf_fail(p, -EINVAL, line, NULL, "section [%s] refused: %s.",
		    p->cur_label, why[0] != '\0' ? why : "no reason given");
		goto out;
	}
	p->cur = s;
	p->cur_obj = obj;
	p->cur_line = line;
	memset(p->key_line, 0, sizeof(p->key_line));
out:
	free(header);
	return p->rc == 0;
}

/* The hint given for each type when its value does not parse. */
static const char *
conf_type_hint(enum conf_type type)
{
	switch (type) {
	case CONF_STRING:
		return "a string";
	case CONF_BOOL:
		return "a boolean (yes/no, true/false, on/off, 1/0)";
	case CONF_U64:
	case CONF_U32:
		return "a whole number (e.g. 10)";
	case CONF_DURATION:
		return "a duration (e.g. 30s, 5m, 1h)";
	case CONF_SIZE:
		return "a size (e.g. 512K, 64M, 1G)";
	case CONF_MODE:
		return "an octal file mode (e.g. 0640)";
	case CONF_PERCENT:
		return "a percentage from 0 to 100 (e.g. 12.5%)";
	case CONF_CUSTOM:
		return "a value";
	}
	return "a value";
}

/*
 * Checks v against the key's bounds, formatted for the key's type in
 * messages. Returns 1, or 0 with the parse stopped.
 */
static int
conf_check_range(struct conf_parser *p, const struct conf_key *k, unsigned line,
    const char *value, uint64_t v, uint64_t type_max)
{
	uint64_t lo = k->min, hi = k->max ? k->max : type_max;
	char q[CONF_QUOTE_MAX + 4], los[32], his[32];

	if (hi > type_max)
		hi = type_max;
	if (v >= lo && v <= hi)
		return 1;
	if (k->type == CONF_DURATION) {
		conf_format_duration(lo, los, sizeof(los));
		conf_format_duration(hi, his, sizeof(his));
	} else if (k->type == CONF_SIZE) {
		conf_format_size(lo, los, sizeof(los));
		conf_format_size(hi, his, sizeof(his));
	} else {
		snprintf(los, sizeof(los), "%" PRIu64, lo);
		snprintf(his, sizeof(his), "%" PRIu64, hi);
	}
	if (k->max == 0 && lo == 0)
		return conf_fail(p, -EINVAL, line, k->name,
		    "'%s' is too large (at most %s).",
		    conf_quote(value, q, sizeof(q)), his);
	if (k->max == 0)
		return conf_fail(p, -EINVAL, line, k->name,
		    "'%s' is too small (at least %s).",
		    conf_quote(value, q, sizeof(q)), los);
	return conf_fail(p, -EINVAL, line, k->name,
	    "'%s' is out of range (%s to %s).", conf_quote(value, q, sizeof(q)),
	    los, his);
}

/*
 * Parses value by the key's type into field. Returns 1, or 0 with the
 * parse stopped and the reason in the error.
 */
static int
conf_store(struct conf_parser *p, const struct conf_key *k, unsigned line,
    void *field, const char *value)
{
	char q[CONF_QUOTE_MAX + 4], why[256];
	uint64_t u64 = 0;
	uint32_t u32 = 0;
	double fraction = 0;
	int r = 0, b = 0;
	char *copy;

	switch (k->type) {
	case CONF_STRING:
		copy = strdup(value);
		if (copy == NULL)
			return conf_fail(
			    p, -ENOMEM, line, k->name, "out of memory.");
		free(*(char **)field);
		*(char **)field = copy;
		return 1;
	case CONF_BOOL:
		if ((r = parse_bool(value, &b)) == 0)
			*(int *)field = b;
		break;
	case CONF_U64:
	case CONF_U32:
		/* Bounds are checked here, for one message for both types. */
		if ((r = parse_u64(value, 0, UINT64_MAX, &u64)) == -ERANGE) {
			return conf_fail(p, -EINVAL, line, k->name,
			    "'%s' is too large.",
			    conf_quote(value, q, sizeof(q)));
		}
		if (r == 0) {
			uint64_t top =
			    k->type == CONF_U32 ? UINT32_MAX : UINT64_MAX;
			if (!conf_check_range(p, k, line, value, u64, top))
				return 0;
			if (k->type == CONF_U32)
				*(uint32_t *)field = (uint32_t)u64;
			else
				*(uint64_t *)field = u64;
		}
		break;
	case CONF_DURATION:
	case CONF_SIZE:
		if (k->type == CONF_DURATION)
			r = parse_duration_ns(value, &u64);
		else
			r = parse_size(value, &u64);
		if (r == -ERANGE)
			return conf_fail(p, -EINVAL, line, k->name,
			    "'%s' is too large.",
			    conf_quote(value, q, sizeof(q)));
		if (r == 0) {
			if (!conf_check_range(
			        p, k, line, value, u64, UINT64_MAX))
				return 0;
			*(uint64_t *)field = u64;
		}
		break;
	case CONF_MODE:
		if ((r = parse_mode(value, &u32)) == 0)
			*(uint32_t *)field = u32;
		break;
	case CONF_PERCENT:
		if ((r = parse_percent(value, &fraction)) == 0)
			*(double *)field = fraction;
		break;
	case CONF_CUSTOM:
		if (k->parse == NULL)
			return conf_fail(p, -EINVAL, line, k->name,
			    "key has no parser in its table.");
		why[0] = '\0';
		r = k->parse(field, value, why, sizeof(why));
		if (r == -ENOMEM)
			return conf_fail(
			    p, -ENOMEM, line, k->name, "out of memory.");
		if (r < 0 && k->secret)
			return conf_fail(p, -EINVAL, line, k->name,
			    "%s (the value is not shown: it may hold a "
			    "password).",
			    why[0] != '\0' ? why : "not a valid value");
		if (r < 0 && k->mask != NULL) {
			char masked[2 * CONF_QUOTE_MAX];

			k->mask(value, masked, sizeof(masked));
			return conf_fail(p, -EINVAL, line, k->name, "'%s': %s.",
			    conf_quote(masked, q, sizeof(q)),
			    why[0] != '\0' ? why : "not a valid value");
		}
		if (r < 0)
			return conf_fail(p, -EINVAL, line, k->name, "'%s': %s.",
			    conf_quote(value, q, sizeof(q)),
			    why[0] != '\0' ? why : "not a valid value");
		return 1;
	}
	if (r < 0)
		return conf_fail(p, -EINVAL, line, k->name, "'%s' is not %s.",
		    conf_quote(value, q, sizeof(q)), conf_type_hint(k->type));
	return 1;
}

/* inih's callback: a section header when key is NULL, else one key. */
static int
conf_handler(void *user, const char *section, const char *key,
    const char *value, int lineno)
{
	struct conf_parser *p = user;
	unsigned line = lineno > 0 ? (unsigned)lineno : 0;
	const struct conf_key *k = NULL;
	size_t i;

	(void)section;
	if (key == NULL)
		return conf_section_begin(p, line);
	if (*key == '\0')
		return conf_fail(
		    p, -EINVAL, line, NULL, "no key name before '='.");
	if (p->cur == NULL)
		return conf_fail(p, -EINVAL, line, key,
		    "key before any section header; put it below a "
		    "[section] line.");
	for (i = 0; p->cur->keys[i].name != NULL; i++) {
		if (strcmp(p->cur->keys[i].name, key) == 0) {
			k = &p->cur->keys[i];
			break;
		}
	}
	if (k == NULL)
		return conf_fail(p, -EINVAL, line, key,
		    "unknown key in section [%s].", p->cur_label);
	if (p->key_line[i] != 0 && !k->repeatable)
		return conf_fail(p, -EINVAL, line, key,
		    "key given twice in section [%s] (first on line %u).",
		    p->cur_label, p->key_line[i]);
	if (value == NULL)
		return conf_fail(p, -EINVAL, line, key,
		    "no value; write '%s = VALUE'.", key);
	if (*value == '\0' && k->type != CONF_STRING)
		return conf_fail(p, -EINVAL, line, key,
		    "empty value; expected %s.", conf_type_hint(k->type));
	if (p->key_line[i] == 0)
		p->key_line[i] = line;
	return conf_store(p, k, line, (char *)p->cur_obj + k->offset, value);
}

/*
 * inih's reader: hands out the next line of the buffer, with "\r\n"
 * turned into "\n" so that a CONF_MAX_LINE line fits inih's buffer
 * either way. conf_check_lines() has made sure every line fits.
 */
static char *
conf_read_line(char *out, int size, void *stream)
{
	struct conf_reader *r = stream;
	const char *nl;
	size_t n, content, room;

	if (r->left == 0 || size < 2)
		return NULL;
	room = (size_t)size - 1;
	nl = memchr(r->next, '\n', r->left);
	n = nl != NULL ? (size_t)(nl - r->next) + 1 : r->left;
	content = nl != NULL ? n - 1 : n;
	if (content > 0 && r->next[content - 1] == '\r')
		content--;
	if (content + 1 > room) {
		/* Cannot happen after conf_check_lines(); cut like fgets. */
		content = room;
		n = room;
		memcpy(out, r->next, content);
		out[content] = '\0';
	} else {
		memcpy(out, r->next, content);
		if (nl != NULL)
			out[content++] = '\n';
		out[content] = '\0';
	}
	r->line = r->next;
	r->line_len = content;
	if (r->line_len > 0 && out[r->line_len - 1] == '\n')
		r->line_len--;
	r->next += n;
	r->left -= n;
	return out;
}

/*
 * Rejects, before inih sees them, the lines inih would cut or misread:
 * longer than CONF_MAX_LINE, holding a NUL byte (inih would stop the line
 * there) or a carriage return before the end. Returns 0 or -EINVAL.
 */
static int
conf_check_lines(struct conf_parser *p, const char *buf, size_t len)
{
	size_t start = 0, i, end;
	unsigned line = 1;

	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		if (end > start && buf[end - 1] == '\r')
			end--;
		if (end - start > CONF_MAX_LINE) {
			conf_fail(p, -EINVAL, line, NULL,
			    "line too long (limit %d).", CONF_MAX_LINE);
			return p->rc;
		}
		for (i = start; i < end; i++) {
			if (buf[i] == '\0') {
				conf_fail(p, -EINVAL, line, NULL,
				    "NUL byte in the line; this is not a "
				    "text file.");
				return p->rc;
			}
			if (buf[i] == '\r') {
				conf_fail(p, -EINVAL, line, NULL,
				    "carriage return inside the line.");
				return p->rc;
			}
		}
		if (nl == NULL)
			break;
		start = (size_t)(nl - buf) + 1;
		line++;
	}
	return 0;
}

/* Explains a line inih refused on its own, found by its number. */
static int
conf_explain_line(
    struct conf_parser *p, const char *buf, size_t len, unsigned line)
{
	const char *s = buf, *nl;
	size_t left = len;
	unsigned n;

	for (n = 1; n < line && left > 0; n++) {
		nl = memchr(s, '\n', left);
		if (nl == NULL)
			break;
		left -= (size_t)(nl + 1 - s);
		s = nl + 1;
	}
	while (left > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		left--;
	}
	if (left > 0 && *s == '[')
		return conf_fail(p, -EINVAL, line, NULL,
		    "section header without a closing ']'.");
	return conf_fail(p, -EINVAL, line, NULL, "cannot parse the line.");
}

int
conf_parse_buf(const char *name, const char *buf, size_t len,
    const struct conf_section *sections, void *ctx, struct conf_error *err)
{
	struct conf_error scratch;
	struct conf_parser p;
	size_t i;
	int ret;

	memset(&p, 0, sizeof(p));
	p.name = name != NULL ? name : "(config)";
	p.sections = sections;
	p.ctx = ctx;
	p.err = err != NULL ? err : &scratch;
	if (sections == NULL || (buf == NULL && len > 0)) {
		conf_error_set(p.err, p.name, 0, NULL,
		    "no section table or no text to parse.");
		return -EINVAL;
	}
	while (sections[p.nsections].name != NULL) {
		const struct conf_section *s = &sections[p.nsections];

		/* A named section needs open(): instances cannot share ctx. */
		if (s->keys == NULL || (s->named && s->open == NULL)) {
			conf_error_set(p.err, p.name, 0, NULL,
			    "section [%s] has no keys, or is named and has no "
			    "open function.",
			    s->name);
			return -EINVAL;
		}
		p.nsections++;
	}
	p.singleton_line = calloc(p.nsections + 1, sizeof(*p.singleton_line));
	if (p.singleton_line == NULL) {
		conf_error_set(p.err, p.name, 0, NULL, "out of memory.");
		return -ENOMEM;
	}

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (conf_check_lines(&p, buf, len) < 0)
		goto out;

	p.reader.next = buf;
	p.reader.left = len;
	ret = ini_parse_stream(conf_read_line, &p.reader, conf_handler, &p);
	if (p.rc == 0 && ret > 0)
		conf_explain_line(&p, buf, len, (unsigned)ret);
	else if (p.rc == 0 && ret < 0)
		conf_fail(&p, -ENOMEM, 0, NULL, "out of memory.");
	else if (p.rc == 0)
		conf_section_end(&p);
out:
	for (i = 0; i < p.nseen; i++)
		free(p.seen[i].instance);
	free(p.seen);
	free(p.singleton_line);
	return p.rc;
}

int
conf_parse_file(const char *path, const struct conf_section *sections,
    void *ctx, struct conf_error *err)
{
	char *buf = NULL, ebuf[128];
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		r = -errno;
		conf_error_set(err, path, 0, NULL, "cannot open: %s.",
		    strerror_r(-r, ebuf, sizeof(ebuf)));
		return r;
	}
	r = read_fd_max(fd, CONF_MAX_FILE, &buf, &len, NULL);
	close(fd);
	if (r == -EFBIG) {
		conf_error_set(err, path, 0, NULL,
		    "larger than %d KiB; not a configuration file?",
		    CONF_MAX_FILE / 1024);
		return r;
	}
	if (r < 0) {
		conf_error_set(err, path, 0, NULL, "cannot read: %s.",
		    strerror_r(-r, ebuf, sizeof(ebuf)));
		return r;
	}
	r = conf_parse_buf(path, buf, len, sections, ctx, err);
	free(buf);
	return r;
}

int
conf_each_item(const char *value, conf_parse_fn *fn, void *field, char *why,
    size_t why_size)
{
	char item[2048], reason[256];
	const char *p = value;
	unsigned n = 0;
	int rc;

	while (*p != '\0') {
		const char *end = p + strcspn(p, ",");
		const char *s = p, *e = end;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == s || (size_t)(e - s) >= sizeof(item)) {
			snprintf(why, why_size, "empty or overlong list item");
			return -EINVAL;
		}
		memcpy(item, s, (size_t)(e - s));
		item[e - s] = '\0';
		n++;
		if ((rc = fn(field, item, why, why_size)) < 0) {
			/* In a list, say which item: the value is quoted
			 * whole by the caller. */
			if (n > 1 || *end == ',') {
				snprintf(reason, sizeof(reason), "%s", why);
				snprintf(why, why_size, "item %u, '%.60s': %s",
				    n, item, reason);
			}
			return rc;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

int
conf_load(const struct conf_loader *l, const char *name, const char *buf,
    size_t len, void *conf, struct conf_error *err)
{
	int rc;

	l->start(conf, name);
	rc = buf == NULL
	         ? conf_parse_file(name, l->sections, conf, err)
	         : conf_parse_buf(name, buf, len, l->sections, conf, err);
	if (rc == 0 && l->finish != NULL)
		rc = l->finish(conf, err);
	if (rc < 0)
		l->free(conf);
	return rc;
}
