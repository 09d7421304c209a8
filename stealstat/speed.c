/* SPDX-License-Identifier: ISC */
/*
 * The speed probe (speed.h): the unit of work, its pinned and timed run,
 * the identity of the CPU a best time belongs to, the best-time file and
 * the context that keeps a low speed from being misread.
 */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "parse.h"
#include "probe.h"
#include "readfile.h"
#include "sample.h"
#include "speed.h"
#include "timeutil.h"

#define LINE_WORDS (SPEED_LINE_BYTES / sizeof(uint32_t))

/* A best-time file is a few lines per CPU; anything larger is not ours. */
#define SPEED_BEST_FILE_MAX (1024 * 1024)

static uint64_t
sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* xorshift64: a fixed sequence, so every run links the same walk. */
static uint64_t
xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

int
speed_work_init(struct speed_work *w)
{
	size_t lines = SPEED_WALK_BYTES / SPEED_LINE_BYTES;
	uint32_t *order, *next;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	w->next = NULL;
	w->lines = 0;
	next = aligned_alloc(SPEED_LINE_BYTES, SPEED_WALK_BYTES);
	order = calloc(lines, sizeof(*order));
	if (next == NULL || order == NULL) {
		free(next);
		free(order);
		return -ENOMEM;
	}
	memset(next, 0, SPEED_WALK_BYTES);
	/*
	 * Sattolo's shuffle gives one cycle through every line, in an order
	 * no prefetcher can guess: each hop is a dependent load from L2.
	 */
	for (size_t i = 0; i < lines; i++)
		order[i] = (uint32_t)i;
	for (size_t i = lines - 1; i > 0; i--) {
		size_t j = (size_t)(xorshift64(&seed) % i);
		uint32_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < lines; i++)
		next[order[i] * LINE_WORDS] =
		    (uint32_t)(order[(i + 1) % lines] * LINE_WORDS);
	free(order);
	w->next = next;
	w->lines = lines;
	return 0;
}

void
speed_work_free(struct speed_work *w)
{
	if (w == NULL)
		return;
	free(w->next);
	w->next = NULL;
	w->lines = 0;
}

/*
 * The unit must be the same work in every build: the sanitizers would add
 * a shadow load to every hop. Its indexes come from speed_work_init, all
 * inside the walk.
 */
#define SPEED_UNSANITIZED __attribute__((no_sanitize("address", "undefined")))

/*
 * In order first, line by line: the hardware prefetcher streams the walk
 * in at memory bandwidth (~15 us) where the walk's own order would wait
 * out the memory latency on every line (~200 us). Then one pass of the
 * walk itself fetches what the prefetcher left out and fills the TLB.
 */
SPEED_UNSANITIZED uint64_t
speed_work_warm(const struct speed_work *w)
{
	uint64_t sum = 0;
	uint32_t p = 0;

	for (size_t i = 0; i < w->lines; i++)
		sum += w->next[i * LINE_WORDS];
	for (size_t i = 0; i < w->lines; i++)
		p = w->next[p];
	return sum + p;
}

SPEED_UNSANITIZED uint64_t
speed_work_unit(const struct speed_work *w, uint64_t seed)
{
	uint64_t x = seed | 1;
	uint32_t p;

	/* The core: shift, xor, multiply, add, each step waiting on the last.
	 */
	for (uint32_t i = 0; i < SPEED_CHAIN_STEPS; i++) {
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ULL;
		x += i;
	}
	/* The core's own caches: every hop waits on the load before it. */
	p = (uint32_t)((x % w->lines) * LINE_WORDS);
	for (size_t i = 0; i < SPEED_WALK_PASSES * w->lines; i++)
		p = w->next[p];
	return x ^ p;
}

/* The affinity masks: room for SPEED_BEST_CPUS CPUs. */
#define MASK_SIZE CPU_ALLOC_SIZE(SPEED_BEST_CPUS)

static int
read_schedstat(int fd, struct schedstat *out)
{
	char buf[96];
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	return schedstat_parse(buf, (size_t)n, out);
}

/* Involuntary context switches of the calling thread so far, or -1. */
static long
involuntary_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) == -1)
		return -1;
	return ru.ru_nivcsw;
}

/* Keeps the result alive so the unit is never optimised away. */
static volatile uint64_t speed_sink;

int
speed_probe_cpu(const struct speed_work *w, unsigned cpu, int schedstat_fd,
    struct speed_sample *out)
{
	cpu_set_t *old, *one;
	struct schedstat s0, s1;
	uint64_t w0, c0, u0w, u0c, u1w, u1c;
	bool have_s0;
	int cur, rc = 0;

	memset(out, 0, sizeof(*out));
	out->cpu = cpu;
	if (cpu >= SPEED_BEST_CPUS || w->next == NULL) {
		out->err = -EINVAL;
		return -EINVAL;
	}
	old = CPU_ALLOC(SPEED_BEST_CPUS);
	one = CPU_ALLOC(SPEED_BEST_CPUS);
	if (old == NULL || one == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	CPU_ZERO_S(MASK_SIZE, one);
	CPU_SET_S(cpu, MASK_SIZE, one);
	if (sched_getaffinity(0, MASK_SIZE, old) == -1) {
		rc = -errno;
		goto out;
	}
	/* Never leave the CPUs the user (taskset, cpuset) gave us. */
	if (!CPU_ISSET_S(cpu, MASK_SIZE, old)) {
		rc = -EINVAL;
		goto out;
	}
	have_s0 = read_schedstat(schedstat_fd, &s0) == 0;
	w0 = time_mono_ns();
	c0 = time_thread_cpu_ns();
	if (sched_setaffinity(0, MASK_SIZE, one) == -1) {
		rc = -errno;
		goto out;
	}
	/*
	 * Let anyone already waiting for this CPU go first: with a
	 * competitor the wait shows in lost_ns (run-queue pressure, seen
	 * first-hand), without one this returns at once. It costs wall
	 * time, never CPU time.
	 */
	sched_yield();
	/*
	 * A unit the kernel switched out halfway ran on caches and TLB the
	 * other task left behind, and paid for the switch: it is run again
	 * (at most SPEED_ATTEMPTS times) so the time is of undisturbed work.
	 */
	for (unsigned attempt = 0;; attempt++) {
		long switched;

		speed_sink = speed_work_warm(w);
		switched = involuntary_switches();
		u0w = time_mono_ns();
		u0c = time_thread_cpu_ns();
		speed_sink = speed_work_unit(w, u0c);
		u1c = time_thread_cpu_ns();
		u1w = time_mono_ns();
		if (switched < 0 || involuntary_switches() == switched ||
		    attempt + 1 >= SPEED_ATTEMPTS)
			break;
		out->preempted++;
	}
	cur = sched_getcpu();
	if (have_s0 && read_schedstat(schedstat_fd, &s1) == 0) {
		out->have_run_delay = true;
		out->run_delay_ns = sat_sub(s1.wait_ns, s0.wait_ns);
	}
	/* Back where we were allowed; a failure here is worth reporting. */
	if (sched_setaffinity(0, MASK_SIZE, old) == -1)
		rc = -errno;
	out->ran_on = cur >= 0 ? (unsigned)cur : cpu;
	out->unit_cpu_ns = sat_sub(u1c, u0c);
	out->unit_wall_ns = sat_sub(u1w, u0w);
	out->span_wall_ns = sat_sub(u1w, w0);
	out->span_cpu_ns = sat_sub(u1c, c0);
	out->lost_ns = sat_sub(out->span_wall_ns, out->span_cpu_ns);
	if (rc == 0 && cur >= 0 && (unsigned)cur != cpu)
		rc = -EAGAIN; /* moved off: hotplug in the middle */
out:
	CPU_FREE(old);
	CPU_FREE(one);
	out->err = rc;
	return rc;
}

double
speed_ratio(uint64_t best_ns, uint64_t unit_ns)
{
	if (unit_ns == 0)
		return -1.0;
	if (best_ns == 0 || best_ns >= unit_ns)
		return 1.0;
	return (double)best_ns / (double)unit_ns;
}

/* ---- /proc/cpuinfo ---- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A number as /proc/cpuinfo prints one: decimal, or hex after "0x".
 * Whole field or nothing. Returns 0 or -EINVAL.
 */
static int
cpuinfo_number(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned)(s[i] - 'A' + 10);
		else
			return -EINVAL;
		if (v > (ULLONG_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* Copies a value as printable ASCII, cut to fit; others become '?'. */
static void
copy_printable(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[n] = '\0';
}

static bool
key_is(const char *k, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

/* One "key : value" line into the identity being built. */
static void
cpuinfo_field(struct cpu_ident *id, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	unsigned long long n;

	if (key_is(k, klen, "vendor_id") || key_is(k, klen, "CPU implementer"))
		copy_printable(id->vendor, sizeof(id->vendor), v, vlen);
	else if (key_is(k, klen, "model name") ||
	         (key_is(k, klen, "cpu") && id->model_name[0] == '\0'))
		copy_printable(id->model_name, sizeof(id->model_name), v, vlen);
	else if (key_is(k, klen, "cpu family") ||
	         key_is(k, klen, "CPU architecture")) {
		if (cpuinfo_number(v, vlen, &n) == 0) {
			id->family = (unsigned long)n;
			id->have_family = true;
		}
	} else if (key_is(k, klen, "model") || key_is(k, klen, "CPU part")) {
		if (cpuinfo_number(v, vlen, &n) == 0)
			id->model = (unsigned long)n;
	} else if (key_is(k, klen, "stepping") ||
	           key_is(k, klen, "CPU revision")) {
		if (cpuinfo_number(v, vlen, &n) == 0)
			id->stepping = (unsigned long)n;
	} else if (key_is(k, klen, "microcode")) {
		if (cpuinfo_number(v, vlen, &n) == 0) {
			id->microcode = n;
			id->have_microcode = true;
		}
	}
}

static bool
ident_same(const struct cpu_ident *a, const struct cpu_ident *b)
{
	return strcmp(a->vendor, b->vendor) == 0 &&
	       strcmp(a->model_name, b->model_name) == 0 &&
	       a->have_family == b->have_family && a->family == b->family &&
	       a->model == b->model && a->stepping == b->stepping &&
	       a->have_microcode == b->have_microcode &&
	       a->microcode == b->microcode;
}

int
cpuinfo_parse(const char *buf, size_t len, struct cpu_ident *out)
{
	struct cpu_ident first, cur;
	size_t pos = 0;
	unsigned blocks = 0;
	bool mixed = false;

	memset(&first, 0, sizeof(first));
	memset(&cur, 0, sizeof(cur));
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		const char *colon = memchr(line, ':', llen);
		size_t klen, vstart, vlen;

		pos += llen + (nl != NULL ? 1 : 0);
		if (colon == NULL)
			continue;
		klen = (size_t)(colon - line);
		while (klen > 0 && is_blank(line[klen - 1]))
			klen--;
		vstart = (size_t)(colon - line) + 1;
		while (vstart < llen && is_blank(line[vstart]))
			vstart++;
		vlen = llen - vstart;
		while (vlen > 0 && is_blank(line[vstart + vlen - 1]))
			vlen--;
		if (key_is(line, klen, "processor")) {
			if (blocks == 1)
				first = cur;
			else if (blocks > 1 && !ident_same(&first, &cur))
				mixed = true;
			memset(&cur, 0, sizeof(cur));
			blocks++;
			continue;
		}
		if (blocks == 0)
			continue; /* s390's header lines, say */
		cpuinfo_field(&cur, line, klen, line + vstart, vlen);
	}
	if (blocks == 0)
		return -EINVAL;
	if (blocks == 1)
		first = cur;
	else if (!ident_same(&first, &cur))
		mixed = true;
	if (first.vendor[0] == '\0' && first.model_name[0] == '\0' &&
	    !first.have_family)
		return -EINVAL;
	first.blocks = blocks;
	first.mixed = mixed;
	*out = first;
	return 0;
}

int
speed_key(const struct cpu_ident *id, char *buf, size_t size)
{
	char vendor[sizeof(id->vendor)], name[sizeof(id->model_name)];
	char ucode[24] = "none";
	int n;

	copy_printable(vendor, sizeof(vendor), id->vendor,
	    strnlen(id->vendor, sizeof(id->vendor)));
	copy_printable(name, sizeof(name), id->model_name,
	    strnlen(id->model_name, sizeof(id->model_name)));
	if (id->have_microcode)
		snprintf(ucode, sizeof(ucode), "0x%llx", id->microcode);
	n = snprintf(buf, size, "v%u %s %lu/%lu/%lu ucode=%s%s %s",
	    SPEED_WORK_VERSION, vendor[0] != '\0' ? vendor : "-", id->family,
	    id->model, id->stepping, ucode, id->mixed ? " mixed" : "", name);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

/* ---- The best-time file ---- */

#define BEST_MAGIC "stealstat-speed 1"

/* The next line of buf from *pos, without its newline; false at the end. */
static bool
next_line(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *llen, bool *terminated)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = buf + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*llen = nl != NULL ? (size_t)(nl - *line) : len - *pos;
	*terminated = nl != NULL;
	*pos += *llen + (nl != NULL ? 1 : 0);
	return true;
}

/* A decimal field at *i of line, then a space or the end. */
static int
best_number(const char *line, size_t llen, size_t *i, uint64_t *out)
{
	char digits[24];
	size_t start = *i, n;

	while (*i < llen && line[*i] != ' ')
		(*i)++;
	n = *i - start;
	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, line + start, n);
	digits[n] = '\0';
	return parse_u64(digits, 0, UINT64_MAX, out);
}

static int
best_parse(const char *buf, size_t len, struct speed_best *out)
{
	const char *line;
	size_t pos = 0, llen;
	bool nl;

	if (!next_line(buf, len, &pos, &line, &llen, &nl) || !nl ||
	    llen != strlen(BEST_MAGIC) || memcmp(line, BEST_MAGIC, llen) != 0)
		return -EINVAL;
	if (!next_line(buf, len, &pos, &line, &llen, &nl) || !nl || llen < 5 ||
	    llen - 4 >= SPEED_KEY_MAX || memcmp(line, "key ", 4) != 0)
		return -EINVAL;
	for (size_t i = 4; i < llen; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] >= 0x7f)
			return -EINVAL;
	memcpy(out->key, line + 4, llen - 4);
	out->key[llen - 4] = '\0';
	while (next_line(buf, len, &pos, &line, &llen, &nl)) {
		uint64_t id, ns;
		size_t i = 4;

		if (!nl || llen < 4 || memcmp(line, "cpu ", 4) != 0)
			return -EINVAL;
		if (best_number(line, llen, &i, &id) < 0 || i >= llen)
			return -EINVAL;
		i++;
		if (best_number(line, llen, &i, &ns) < 0 || i != llen ||
		    ns == 0)
			return -EINVAL;
		if (id < out->cap)
			out->best_ns[id] = ns;
	}
	return 0;
}

static void
best_clear(struct speed_best *b)
{
	if (b->best_ns != NULL)
		memset(b->best_ns, 0, b->cap * sizeof(*b->best_ns));
}

int
speed_best_parse(const char *buf, size_t len, struct speed_best *out)
{
	int rc;

	best_clear(out);
	out->key[0] = '\0';
	if ((rc = best_parse(buf, len, out)) < 0) {
		best_clear(out);
		out->key[0] = '\0';
	}
	return rc;
}

int
speed_best_format(const struct speed_best *b, char *buf, size_t size)
{
	size_t off = 0;
	int n;

	n = snprintf(buf, size, "%s\nkey %s\n", BEST_MAGIC, b->key);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	off = (size_t)n;
	for (unsigned i = 0; i < b->cap; i++) {
		if (b->best_ns[i] == 0)
			continue;
		n = snprintf(buf + off, size - off, "cpu %u %llu\n", i,
		    (unsigned long long)b->best_ns[i]);
		if (n < 0 || (size_t)n >= size - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return off > INT_MAX ? -ENOSPC : (int)off;
}

bool
speed_best_update(struct speed_best *b, unsigned cpu, uint64_t unit_ns)
{
	if (cpu >= b->cap || unit_ns == 0)
		return false;
	if (b->best_ns[cpu] != 0 && b->best_ns[cpu] <= unit_ns)
		return false;
	b->best_ns[cpu] = unit_ns;
	return true;
}

static void
best_start_afresh(struct speed_best *b, const char *key)
{
	best_clear(b);
	snprintf(b->key, sizeof(b->key), "%s", key);
}

int
speed_best_load(const char *path, const char *key, struct speed_best *b)
{
	char *buf = NULL;
	size_t len;
	int rc;

	rc = read_file_max(path, SPEED_BEST_FILE_MAX, &buf, &len, NULL);
	if (rc == -ENOENT || rc == -EFBIG || rc == -EISDIR) {
		best_start_afresh(b, key);
		return 0;
	}
	if (rc < 0) {
		best_start_afresh(b, key);
		return rc;
	}
	rc = speed_best_parse(buf, len, b);
	free(buf);
	if (rc < 0 || strcmp(b->key, key) != 0) {
		best_start_afresh(b, key);
		return 0;
	}
	return 1;
}

int
speed_best_save(const char *path, const struct speed_best *b)
{
	size_t size = 64 + SPEED_KEY_MAX + (size_t)b->cap * 32;
	char *buf = malloc(size);
	int n, rc;

	if (buf == NULL)
		return -ENOMEM;
	n = speed_best_format(b, buf, size);
	if (n < 0) {
		free(buf);
		return n;
	}
	/* Losing the file costs only re-learning: no directory fsync. */
	rc = atomic_replace_sync(path, buf, (size_t)n, 0644, ATOMIC_SYNC_DATA);
	free(buf);
	return rc;
}

/* ---- Context ---- */

static const struct procstat_cpu *
find_cpu(const struct procstat *ps, unsigned id)
{
	for (unsigned i = 0; i < ps->ncpu && i < ps->cpu_cap; i++)
		if (ps->cpu[i].id == id)
			return &ps->cpu[i];
	return NULL;
}

static uint64_t
busy_ticks(const struct cpu_times *t)
{
	return t->col[COL_USER] + t->col[COL_NICE] + t->col[COL_SYSTEM] +
	       t->col[COL_IRQ] + t->col[COL_SOFTIRQ];
}

static uint64_t
all_ticks(const struct cpu_times *t)
{
	/* guest and guest_nice are already inside user and nice. */
	return busy_ticks(t) + t->col[COL_IDLE] + t->col[COL_IOWAIT] +
	       t->col[COL_STEAL];
}

void
speed_context_from_stat(const struct procstat *before,
    const struct procstat *after, unsigned cpu, struct speed_context *ctx)
{
	ctx->others_known = true;
	ctx->others_busy_ticks = 0;
	ctx->others_ticks = 0;
	ctx->others = 0;
	for (unsigned i = 0; i < after->ncpu && i < after->cpu_cap; i++) {
		const struct procstat_cpu *a = &after->cpu[i];
		const struct procstat_cpu *b;

		if (a->id == cpu)
			continue;
		if ((b = find_cpu(before, a->id)) == NULL) {
			ctx->others_known = false; /* came online meanwhile */
			continue;
		}
		ctx->others++;
		ctx->others_busy_ticks +=
		    sat_sub(busy_ticks(&a->t), busy_ticks(&b->t));
		ctx->others_ticks +=
		    sat_sub(all_ticks(&a->t), all_ticks(&b->t));
	}
	ctx->runnable = 0;
	if (after->have & PROCSTAT_HAVE_RUNNING)
		ctx->runnable =
		    after->procs_running > 0 ? after->procs_running - 1 : 0;
}

void
speed_context_freq(struct speed_context *ctx, uint64_t prev_khz,
    uint64_t before_khz, uint64_t after_khz)
{
	ctx->freq_known = after_khz > 0;
	ctx->freq_khz = after_khz;
	ctx->freq_changed =
	    after_khz > 0 && ((before_khz > 0 && before_khz != after_khz) ||
	                         (prev_khz > 0 && prev_khz != after_khz));
}

bool
speed_context_others_busy(const struct speed_context *ctx, double busy)
{
	if (ctx->others == 0)
		return false;
	if (ctx->others_ticks > 0 &&
	    (double)ctx->others_busy_ticks >= busy * (double)ctx->others_ticks)
		return true;
	return ctx->runnable >= ctx->others;
}

uint64_t
speed_read_freq_khz(const char *sys_root, unsigned cpu)
{
	char path[PATH_MAX], buf[32];
	uint64_t khz;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path),
	        "%s/devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq",
	        sys_root != NULL ? sys_root : "/sys", cpu) >= (int)sizeof(path))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (parse_u64(buf, 1, UINT64_MAX, &khz) < 0)
		return 0;
	return khz;
}

unsigned
speed_cpus_per_interval(
    uint64_t budget_ns, uint64_t probe_cost_ns, unsigned ncpu)
{
	uint64_t n;

	if (ncpu == 0)
		return 0;
	if (probe_cost_ns == 0)
		return ncpu;
	n = budget_ns / probe_cost_ns;
	if (n < 1)
		n = 1;
	return n > ncpu ? ncpu : (unsigned)n;
}

/* ---- The prober ---- */

#define PROBER_SAVE_EVERY_NS (600 * NSEC_PER_SEC)
#define CPUINFO_MAX (8 * 1024 * 1024)
/* A guess at one probe's cost before the first round has measured it. */
#define PROBER_FIRST_COST_NS (500 * NSEC_PER_USEC)

static char *
strdup_or_null(const char *s, bool *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = true;
	return d;
}

static void
prober_key(const char *proc_root, char *key, size_t size)
{
	char path[PATH_MAX], *buf = NULL;
	struct cpu_ident id;
	size_t len;

	snprintf(path, sizeof(path), "%s/cpuinfo", proc_root);
	if (read_file_max(path, CPUINFO_MAX, &buf, &len, NULL) < 0 ||
	    cpuinfo_parse(buf, len, &id) < 0 || speed_key(&id, key, size) < 0)
		snprintf(key, size, "v%u unknown", SPEED_WORK_VERSION);
	free(buf);
}

int
speed_prober_init(struct speed_prober *p, const char *proc_root,
    const char *sys_root, const char *best_path, uint64_t budget_ns)
{
	char path[PATH_MAX];
	char key[SPEED_KEY_MAX];
	bool failed = false;
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	int rc;

	memset(p, 0, sizeof(*p));
	p->schedstat_fd = -1;
	p->stat_fd = -1;
	if (proc_root == NULL)
		proc_root = "/proc";
	p->cap = conf > 0 && conf < SPEED_BEST_CPUS ? (unsigned)conf
	                                            : SPEED_BEST_CPUS;
	p->budget_ns = budget_ns;
	p->cost_ns = PROBER_FIRST_COST_NS;
	p->best.cap = p->cap;
	p->best.best_ns = calloc(p->cap, sizeof(*p->best.best_ns));
	p->cpu = calloc(p->cap, sizeof(*p->cpu));
	p->before.cpu = calloc(p->cap + 1, sizeof(*p->before.cpu));
	p->after.cpu = calloc(p->cap + 1, sizeof(*p->after.cpu));
	p->best_path = strdup_or_null(best_path, &failed);
	p->sys_root = strdup_or_null(sys_root, &failed);
	p->stat_size = STAT_BUF_MIN;
	p->stat_buf = malloc(p->stat_size);
	p->points = calloc(p->cap, sizeof(*p->points));
	p->blob_size = (size_t)p->cap * 96 + 1;
	p->blob = malloc(p->blob_size);
	if (failed || p->best.best_ns == NULL || p->cpu == NULL ||
	    p->before.cpu == NULL || p->after.cpu == NULL ||
	    p->stat_buf == NULL || p->points == NULL || p->blob == NULL ||
	    speed_work_init(&p->work) < 0) {
		speed_prober_free(p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < p->cap; i++)
		p->cpu[i].speed = -1.0;
	p->before.cpu_cap = p->after.cpu_cap = p->cap + 1;
	p->before.cpu_detail = p->after.cpu_detail = true;
	snprintf(path, sizeof(path), "%s/stat", proc_root);
	if ((p->stat_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = -errno;
		speed_prober_free(p);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/thread-self/schedstat", proc_root);
	p->schedstat_fd = open(path, O_RDONLY | O_CLOEXEC);
	prober_key(proc_root, key, sizeof(key));
	if (p->best_path != NULL)
		p->best_load_rc = speed_best_load(p->best_path, key, &p->best);
	else
		snprintf(p->best.key, sizeof(p->best.key), "%s", key);
	p->best_saved_ns = time_mono_ns();
	return 0;
}

static int
prober_read_stat(struct speed_prober *p, struct procstat *ps)
{
	ssize_t n = read_whole_at0(
	    p->stat_fd, &p->stat_buf, &p->stat_size, STAT_BUF_MAX);
	int rc;

	if (n < 0)
		return (int)n;
	rc = procstat_parse(p->stat_buf, (size_t)n, ps);
	/* More CPUs than ids we probe: the first cap+1 lines still count. */
	return rc == -ENOSPC ? 0 : rc < 0 ? rc : 0;
}

static void
prober_save(struct speed_prober *p, bool now)
{
	uint64_t t = time_mono_ns();

	if (!p->best_dirty || p->best_path == NULL || p->best_readonly)
		return;
	if (!now && t - p->best_saved_ns < PROBER_SAVE_EVERY_NS)
		return;
	/* A failed save costs only re-learning after a restart. */
	if (speed_best_save(p->best_path, &p->best) == 0)
		p->best_dirty = false;
	p->best_saved_ns = t;
}

int
speed_prober_run(struct speed_prober *p)
{
	unsigned online[SPEED_BEST_CPUS];
	unsigned n = 0, want, done = 0;
	uint64_t c0 = time_thread_cpu_ns();
	int rc;

	if ((rc = prober_read_stat(p, &p->before)) < 0)
		return rc;
	for (unsigned i = 0; i < p->cap; i++)
		p->cpu[i].probed = false;
	for (unsigned i = 0; i < p->before.ncpu && i < p->before.cpu_cap; i++)
		if (p->before.cpu[i].id < p->cap)
			online[n++] = p->before.cpu[i].id;
	want = speed_cpus_per_interval(p->budget_ns, p->cost_ns, n);
	for (unsigned k = 0; k < want; k++) {
		unsigned id = online[(p->cursor + k) % n];
		struct speed_cpu *c = &p->cpu[id];
		uint64_t before_khz = speed_read_freq_khz(p->sys_root, id);

		c->probed = true;
		c->speed = -1.0;
		if (speed_probe_cpu(&p->work, id, p->schedstat_fd, &c->s) < 0)
			continue; /* not ours (taskset), or gone: said in s.err
			           */
		done++;
		if (speed_best_update(&p->best, id, c->s.unit_cpu_ns))
			p->best_dirty = true;
		c->best_ns = p->best.best_ns[id];
		c->speed = speed_ratio(c->best_ns, c->s.unit_cpu_ns);
		speed_context_freq(&c->ctx, c->prev_khz, before_khz,
		    speed_read_freq_khz(p->sys_root, id));
		c->prev_khz = c->ctx.freq_khz;
	}
	p->cursor = n > 0 ? (p->cursor + want) % n : 0;
	if ((rc = prober_read_stat(p, &p->after)) < 0)
		return rc;
	for (unsigned i = 0; i < p->cap; i++)
		if (p->cpu[i].probed && p->cpu[i].s.err == 0)
			speed_context_from_stat(
			    &p->before, &p->after, i, &p->cpu[i].ctx);
	p->probed = done;
	if (want > 0)
		p->cost_ns = (time_thread_cpu_ns() - c0) / want;
	prober_save(p, false);
	return (int)done;
}

const struct speed_cpu *
speed_prober_cpu(const struct speed_prober *p, unsigned id)
{
	if (id >= p->cap || p->cpu[id].s.unit_cpu_ns == 0)
		return NULL;
	return &p->cpu[id];
}

void
speed_prober_free(struct speed_prober *p)
{
	if (p == NULL)
		return;
	if (p->best.best_ns != NULL)
		prober_save(p, true);
	speed_work_free(&p->work);
	free(p->best.best_ns);
	free(p->cpu);
	free(p->before.cpu);
	free(p->after.cpu);
	free(p->best_path);
	free(p->sys_root);
	free(p->stat_buf);
	free(p->points);
	free(p->blob);
	if (p->schedstat_fd >= 0)
		close(p->schedstat_fd);
	if (p->stat_fd >= 0)
		close(p->stat_fd);
	memset(p, 0, sizeof(*p));
	p->schedstat_fd = p->stat_fd = -1;
}

/* ---- The "slowed" verdict ---- */

const char slow_advice[] =
    "the CPU runs but does less work per second than it has been seen "
    "to do, while steal is low and the guest's other CPUs are idle: the "
    "host is slowing it without taking it away (a busy SMT sibling, "
    "contended caches, a lower clock, or exhausted CPU credits). Move to "
    "another host (stop and start the instance), or to a dedicated-core "
    "or non-burstable instance type; on a burstable one, check its CPU "
    "credit balance.";

enum slow_judgement
slow_judge(const struct slow_opts *o, struct slow_state *st, double speed,
    double r, double others_busy)
{
	/* A CPU not probed this time keeps its run and its verdict:
	   rotation is not relief. */
	if (speed < 0)
		return st->slowed ? SLOW_YES : SLOW_UNKNOWN;
	/* Steal is the better explanation; the stolen verdict says it. */
	if (r >= o->steal) {
		*st = (struct slow_state){0};
		return SLOW_STEAL;
	}
	/* The guest's own busy CPUs may be the ones slowing it (its own
	   SMT sibling, its own cache and memory traffic). */
	if (others_busy >= o->busy) {
		*st = (struct slow_state){0};
		return SLOW_SELF;
	}
	if (speed >= o->slow + (st->slowed ? SLOW_HYSTERESIS : 0.0)) {
		*st = (struct slow_state){0};
		return SLOW_NO;
	}
	if (st->run == 0 || speed < st->worst)
		st->worst = speed;
	st->last = speed;
	if (st->run < UINT_MAX)
		st->run++;
	if (st->slowed || st->run >= o->sustain) {
		st->slowed = true;
		return SLOW_YES;
	}
	return SLOW_PENDING;
}

/* ---- The speed blob ---- */

/* A decimal field at *i of line, ended by a space or the line's end. */
static int
blob_number(const char *line, size_t llen, size_t *i, uint64_t *out)
{
	return best_number(line, llen, i, out);
}

int
speed_points_parse(
    const char *buf, size_t len, struct speed_point *out, unsigned cap)
{
	const char *line;
	size_t pos = 0, llen;
	unsigned n = 0;
	bool nl;

	while (next_line(buf, len, &pos, &line, &llen, &nl)) {
		uint64_t v[5];
		size_t i = 3;

		if (llen < 4 || memcmp(line, "cpu", 3) != 0)
			return -EINVAL;
		for (int f = 0; f < 5; f++) {
			if (f > 0) {
				if (i >= llen || line[i] != ' ')
					return -EINVAL;
				i++;
			}
			if (blob_number(line, llen, &i, &v[f]) < 0)
				return -EINVAL;
		}
		if (i != llen || v[0] >= SPEED_BEST_CPUS || v[1] == 0 ||
		    v[2] == 0 || v[2] > v[1] || v[4] > SPEED_FLAGS_ALL)
			return -EINVAL;
		if (n > 0 && v[0] <= out[n - 1].cpu)
			return -EINVAL;
		if (n >= cap)
			return -ENOSPC;
		out[n].cpu = (unsigned)v[0];
		out[n].unit_ns = v[1];
		out[n].best_ns = v[2];
		out[n].lost_ns = v[3];
		out[n].flags = (unsigned)v[4];
		n++;
	}
	return (int)n;
}

int
speed_points_format(
    const struct speed_point *p, unsigned n, char *buf, size_t size)
{
	size_t off = 0;

	if (size > 0)
		buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		int w =
		    snprintf(buf + off, size - off, "cpu%u %llu %llu %llu %u\n",
		        p[i].cpu, (unsigned long long)p[i].unit_ns,
		        (unsigned long long)p[i].best_ns,
		        (unsigned long long)p[i].lost_ns, p[i].flags);

		if (w < 0 || (size_t)w >= size - off)
			return -ENOSPC;
		off += (size_t)w;
	}
	return off > INT_MAX ? -ENOSPC : (int)off;
}

double
speed_point_ratio(const struct speed_point *p)
{
	return speed_ratio(p->best_ns, p->unit_ns);
}

unsigned
speed_prober_points(
    const struct speed_prober *p, struct speed_point *out, unsigned cap)
{
	unsigned n = 0;

	for (unsigned id = 0; id < p->cap && n < cap; id++) {
		const struct speed_cpu *c = &p->cpu[id];

		if (!c->probed || c->s.err != 0 || c->s.unit_cpu_ns == 0)
			continue;
		out[n] = (struct speed_point){
		    .cpu = id,
		    .unit_ns = c->s.unit_cpu_ns,
		    .best_ns = c->best_ns,
		    .lost_ns = c->s.lost_ns,
		};
		if (speed_context_others_busy(&c->ctx, 0.5))
			out[n].flags |= SPEED_OTHERS_BUSY;
		if (c->ctx.freq_changed)
			out[n].flags |= SPEED_FREQ_CHANGED;
		if (c->s.preempted > 0)
			out[n].flags |= SPEED_PREEMPTED;
		n++;
	}
	return n;
}

const char *
speed_prober_blob(struct speed_prober *p, size_t *len)
{
	unsigned n = speed_prober_points(p, p->points, p->cap);
	int w;

	if (n == 0 ||
	    (w = speed_points_format(p->points, n, p->blob, p->blob_size)) <= 0)
		return NULL;
	*len = (size_t)w;
	return p->blob;
}

uint64_t
speed_budget_ns(uint64_t interval_ns)
{
	return interval_ns / 1000;
}
