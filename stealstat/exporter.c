/* SPDX-License-Identifier: ISC */
/*
 * The /metrics listener and the counters behind it.
 *
 * The listener is served from the monitor's sampling loop with poll(2),
 * not by an HTTP library: it reads one request head (at most 2 KiB),
 * answers GET /metrics and closes. That keeps the recorder a single
 * small static process (see bench/stealstat-history for its cost),
 * and the little parsing there is (exporter_parse_request) is a pure,
 * fuzzed function. Like entropyd's admin listener, clients are bounded
 * (EXPORTER_CONNS) and each has an absolute deadline from accept, so a
 * slow or silent client cannot hold a slot or delay a sample.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomicfile.h"
#include "exporter.h"
#include "parse.h"
#include "textbuf.h"
#include "timeutil.h"

int
exporter_add(struct exporter_totals *t, const struct interval *iv)
{
	if (iv->glitch) {
		t->dropped++;
		t->current = VERDICT_GLITCH;
		t->have_current = true;
		return 0;
	}
	t->verdict_s[iv->total.verdict] +=
	    (double)iv->elapsed_ns / NSEC_PER_SEC;
	t->current = iv->total.verdict;
	t->have_current = true;
	for (unsigned i = 0; iv->cpu_detail && i < iv->ncpu; i++) {
		const struct cpu_interval *ci = &iv->cpu[i];
		unsigned id = (unsigned)ci->cpu;
		struct exporter_cpu *c;

		if (id >= 65536)
			continue;
		if (id >= t->cpu_cap) {
			unsigned cap = id + 16;

			c = realloc(t->cpu, cap * sizeof(*c));
			if (c == NULL)
				return -ENOMEM;
			memset(
			    c + t->cpu_cap, 0, (cap - t->cpu_cap) * sizeof(*c));
			t->cpu = c;
			t->cpu_cap = cap;
		}
		c = &t->cpu[id];
		c->seen = true;
		c->steal += ci->steal_ticks;
		c->wanted += ci->busy_ticks + ci->steal_ticks;
		c->total += ci->busy_ticks + ci->idle_ticks + ci->steal_ticks;
		/* A CPU not probed this round keeps its last speed. */
		if (ci->have_speed) {
			c->have_speed = true;
			c->speed = ci->speed;
		}
	}
	return 0;
}

void
exporter_totals_free(struct exporter_totals *t)
{
	free(t->cpu);
	t->cpu = NULL;
	t->cpu_cap = 0;
}

static void
help(struct textbuf *t, const char *name, const char *type, const char *text)
{
	textbuf_printf(
	    t, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void
per_cpu(struct textbuf *t, const struct exporter_totals *x, const char *name,
    size_t field)
{
	for (unsigned i = 0; i < x->cpu_cap; i++) {
		const struct exporter_cpu *c = &x->cpu[i];
		uint64_t ticks;

		if (!c->seen)
			continue;
		memcpy(&ticks, (const char *)c + field, sizeof(ticks));
		textbuf_printf(
		    t, "%s{cpu=\"%u\"} %.2f\n", name, i, (double)ticks / x->hz);
	}
}

long
exporter_render(const struct exporter_totals *x, char **out)
{
	struct textbuf t;
	bool speed_help = false;

	if (textbuf_init(&t, 8192) < 0)
		return -ENOMEM;
	help(&t, "stealstat_steal_seconds_total", "counter",
	    "CPU time the hypervisor gave to others while this vCPU wanted "
	    "to run (steal), since the monitor started.");
	per_cpu(&t, x, "stealstat_steal_seconds_total",
	    offsetof(struct exporter_cpu, steal));
	help(&t, "stealstat_wanted_seconds_total", "counter",
	    "CPU time this vCPU wanted: busy (user, nice, system, irq, "
	    "softirq) plus steal.");
	per_cpu(&t, x, "stealstat_wanted_seconds_total",
	    offsetof(struct exporter_cpu, wanted));
	help(&t, "stealstat_cpu_seconds_total", "counter",
	    "All CPU time accounted: busy, idle, iowait and steal.");
	per_cpu(&t, x, "stealstat_cpu_seconds_total",
	    offsetof(struct exporter_cpu, total));
	for (unsigned i = 0; i < x->cpu_cap; i++) {
		if (!x->cpu[i].seen || !x->cpu[i].have_speed)
			continue;
		if (!speed_help) {
			help(&t, "stealstat_cpu_speed_ratio", "gauge",
			    "Speed of the probe's fixed unit of work on this "
			    "CPU "
			    "against the best seen there (1: as fast as ever "
			    "seen), at its latest probe.");
			speed_help = true;
		}
		textbuf_printf(&t,
		    "stealstat_cpu_speed_ratio{cpu=\"%u\"} %.4f\n", i,
		    x->cpu[i].speed);
	}
	help(&t, "stealstat_verdict_seconds_total", "counter",
	    "Time spent under each verdict of the whole machine.");
	for (int v = 0; v < VERDICT_MAX; v++) {
		if (v == VERDICT_GLITCH)
			continue;
		textbuf_printf(&t,
		    "stealstat_verdict_seconds_total{verdict=\"%s\"} %.3f\n",
		    verdict_name((enum verdict)v), x->verdict_s[v]);
	}
	help(&t, "stealstat_dropped_intervals_total", "counter",
	    "Intervals dropped as glitches (migration, suspend, hotplug, "
	    "counters going backwards).");
	textbuf_printf(&t, "stealstat_dropped_intervals_total %llu\n",
	    (unsigned long long)x->dropped);
	help(&t, "stealstat_verdict", "gauge",
	    "1 for the verdict of the last interval, 0 for the others.");
	for (int v = 0; v < VERDICT_MAX; v++)
		textbuf_printf(&t, "stealstat_verdict{verdict=\"%s\"} %d\n",
		    verdict_name((enum verdict)v),
		    x->have_current && x->current == (enum verdict)v);
	if (x->have_history) {
		help(&t, "stealstat_history_bytes", "gauge",
		    "Size of the history directory's segments.");
		textbuf_printf(&t, "stealstat_history_bytes %llu\n",
		    (unsigned long long)x->history_bytes);
	}
	if (t.error) {
		textbuf_free(&t);
		return -ENOMEM;
	}
	*out = t.buf;
	return (long)t.len;
}

/* --- the listener ------------------------------------------------------- */

int
exporter_parse_request(const char *buf, size_t len, bool *metrics)
{
	const char *end = NULL, *sp, *path, *path_end;

	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' &&
		    (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len &&
		                               buf[i + 2] == '\n'))) {
			end = buf + i;
			break;
		}
	}
	if (end == NULL)
		return len >= EXPORTER_REQUEST_MAX ? 400 : 0;
	sp = memchr(buf, ' ', (size_t)(end - buf));
	if (sp == NULL)
		return 400;
	path = sp + 1;
	path_end = memchr(path, ' ', (size_t)(end - path));
	if (path_end == NULL || memchr(buf, '\n', (size_t)(path_end - buf)))
		return 400;
	if ((size_t)(sp - buf) != 3 || memcmp(buf, "GET", 3) != 0)
		return 405;
	/* A query string is ignored, as Prometheus may add one. */
	for (const char *q = path; q < path_end; q++)
		if (*q == '?')
			path_end = q;
	*metrics =
	    (size_t)(path_end - path) == 8 && memcmp(path, "/metrics", 8) == 0;
	if (*metrics || (path_end - path == 1 && *path == '/'))
		return 200;
	return 404;
}

int
exporter_listen(
    struct exporter *x, const char *addr_port, char *why, size_t why_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, rc;

	*x = (struct exporter){.listen_fd = -1};
	for (int i = 0; i < EXPORTER_CONNS; i++)
		x->conn[i].fd = -1;
	if (parse_sockaddr(addr_port, &ss, &len) < 0) {
		snprintf(why, why_size,
		    "--listen '%s' is not ADDR:PORT (an IP address, not a "
		    "name: 127.0.0.1:9133, [::1]:9133)",
		    addr_port);
		return -EINVAL;
	}
	x->listen_fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (x->listen_fd < 0 ||
	    setsockopt(x->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	        sizeof(one)) < 0 ||
	    bind(x->listen_fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(x->listen_fd, 64) < 0) {
		rc = -errno;
		snprintf(
		    why, why_size, "listen %s: %s", addr_port, strerror(-rc));
		exporter_close(x);
		return rc;
	}
	return 0;
}

static void
conn_close(struct exporter_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->resp);
	*c = (struct exporter_conn){.fd = -1};
}

static void
conn_respond(struct exporter_conn *c, int status, bool metrics,
    const struct exporter_totals *t)
{
	static const char *const reason[] = {[0] = "OK",
	    [1] = "Bad Request",
	    [2] = "Not Found",
	    [3] = "Method Not Allowed"};
	const char *why = status == 200   ? reason[0]
	                  : status == 400 ? reason[1]
	                  : status == 404 ? reason[2]
	                                  : reason[3];
	char *body = NULL;
	long n = 0;
	int head;

	if (status == 200 && metrics)
		n = exporter_render(t, &body);
	else if (status == 200)
		body = strdup("stealstat exporter: see /metrics\n");
	else
		body = strdup(why);
	if (n < 0 || body == NULL) {
		free(body);
		conn_close(c);
		return;
	}
	if (n == 0)
		n = (long)strlen(body);
	c->resp = malloc((size_t)n + 256);
	if (c->resp == NULL) {
		free(body);
		conn_close(c);
		return;
	}
	head = snprintf(c->resp, 256,
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\nContent-Length: %ld\r\nConnection: "
	    "close\r\n%s\r\n",
	    status, why, n, status == 405 ? "Allow: GET\r\n" : "");
	memcpy(c->resp + head, body, (size_t)n);
	c->resp_len = (size_t)head + (size_t)n;
	c->resp_off = 0;
	free(body);
}

static void
conn_readable(struct exporter_conn *c, const struct exporter_totals *t)
{
	ssize_t n =
	    read(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len);
	bool metrics = false;
	int status;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->req_len += (size_t)n;
	status = exporter_parse_request(c->req, c->req_len, &metrics);
	if (status != 0)
		conn_respond(c, status, metrics, t);
}

static void
conn_writable(struct exporter_conn *c)
{
	ssize_t n = send(c->fd, c->resp + c->resp_off,
	    c->resp_len - c->resp_off, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->resp_off += (size_t)n;
	if (c->resp_off == c->resp_len) {
		shutdown(c->fd, SHUT_WR);
		conn_close(c);
	}
}

static void
accept_all(struct exporter *x, uint64_t now)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(
		    x->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int slot = -1;

		if (fd < 0)
			return;
		for (int i = 0; i < EXPORTER_CONNS && slot < 0; i++)
			if (x->conn[i].fd < 0)
				slot = i;
		if (slot < 0) {
			/* Full: the newcomer waits for no one's slot. */
			close(fd);
			continue;
		}
		x->conn[slot] = (struct exporter_conn){
		    .fd = fd, .deadline_ns = now + EXPORTER_DEADLINE_NS};
	}
}

int
exporter_wait(struct exporter *x, uint64_t deadline_ns,
    const struct exporter_totals *t, volatile int *stop)
{
	struct pollfd pfd[EXPORTER_CONNS + 1];
	int map[EXPORTER_CONNS + 1];

	for (;;) {
		uint64_t now = time_mono_ns(), until = deadline_ns;
		unsigned n = 0;
		int ms, rc;

		if (*stop || now >= deadline_ns)
			return 0;
		if (x != NULL && x->listen_fd >= 0) {
			pfd[n] = (struct pollfd){x->listen_fd, POLLIN, 0};
			map[n++] = -1;
			for (int i = 0; i < EXPORTER_CONNS; i++) {
				struct exporter_conn *c = &x->conn[i];

				if (c->fd < 0)
					continue;
				if (now >= c->deadline_ns) {
					conn_close(c);
					continue;
				}
				if (c->deadline_ns < until)
					until = c->deadline_ns;
				pfd[n] = (struct pollfd){c->fd,
				    c->resp != NULL ? POLLOUT : POLLIN, 0};
				map[n++] = i;
			}
		}
		ms = (int)((until - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		rc = poll(pfd, n, ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		now = time_mono_ns();
		for (unsigned i = 0; rc > 0 && i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (map[i] < 0) {
				accept_all(x, now);
				continue;
			}
			struct exporter_conn *c = &x->conn[map[i]];

			if (c->resp != NULL)
				conn_writable(c);
			else
				conn_readable(c, t);
		}
	}
}

void
exporter_close(struct exporter *x)
{
	for (int i = 0; i < EXPORTER_CONNS; i++)
		if (x->conn[i].fd >= 0)
			conn_close(&x->conn[i]);
	if (x->listen_fd >= 0)
		close(x->listen_fd);
	x->listen_fd = -1;
}

int
textfile_check(const char *path)
{
	struct atomic_file af;
	int rc = atomic_file_open(&af, path, 0644);

	if (rc < 0)
		return rc;
	atomic_file_abort(&af);
	return 0;
}
