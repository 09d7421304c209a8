/* SPDX-License-Identifier: ISC */
/*
 * The picture of a window: one SVG, 960 by 400, readable at a glance in
 * a ticket or a wiki page. Steal of all time, steal of wanted time, busy
 * and PSI as lines over the report's rows; periods whose verdict asks
 * for action shaded; the steal and busy thresholds dashed; time and
 * percentage axes, a legend, the host and window in the title. Where
 * the history carries the speed probe, its speed (the mean of the CPUs
 * probed, and the slowest CPU's lowest probe) goes on a scale of its
 * own on the right, with the --slow threshold, and slowed periods are
 * shaded too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomicfile.h"
#include "timeutil.h"
#include "window.h"

#define SVG_W 960
#define SVG_H 400
#define PLOT_X 60
#define PLOT_Y 50
#define PLOT_W 870
#define PLOT_H 260
#define SPEED_COLOR "#1e8449"

struct series {
	const char *name, *color, *dash;
	size_t offset; /* of the double in struct window_row, a share */
	double scale; /* to percent */
	bool (*present)(const struct window_row *);
};

static bool
always(const struct window_row *r)
{
	return r->intervals > 0;
}

static bool
psi_present(const struct window_row *r)
{
	return r->intervals > 0 && r->have_psi;
}

static const struct series series[] = {
    {"busy (wanted to run)", "#4a7fb5", "", offsetof(struct window_row, u), 100,
        always},
    {"steal, % of wanted time", "#c0392b", "", offsetof(struct window_row, r),
        100, always},
    {"steal, % of all time", "#e67e22", "4 3",
        offsetof(struct window_row, pct_steal), 1, always},
    {"PSI cpu some", "#7f8c8d", "2 3", offsetof(struct window_row, psi_some),
        100, psi_present},
};

/*
 * An open polyline: its colour, how many points it has and the last one.
 * A polyline of one point draws nothing, so run_end() closes it with a
 * dot in its colour there.
 */
struct run {
	const char *color;
	unsigned n;
	double x, y;
};

static void
run_point(FILE *f, struct run *run, double x, double y)
{
	fprintf(f, "%.1f,%.1f ", x, y);
	run->n++;
	run->x = x;
	run->y = y;
}

static void
run_end(FILE *f, struct run *run)
{
	if (run->n == 0)
		return;
	fputs("\"/>\n", f);
	if (run->n == 1)
		fprintf(f,
		    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
		    run->x, run->y, run->color);
	run->n = 0;
}

static const char *
shade_of(enum verdict v)
{
	switch (v) {
	case VERDICT_STOLEN:
		return "#f5b7b1";
	case VERDICT_CAPPED:
		return "#f8c9a0";
	case VERDICT_THROTTLED:
		return "#f9e79f";
	case VERDICT_SATURATED:
		return "#d6eaf8";
	case VERDICT_GLITCH:
		return "#e5e7e9";
	case VERDICT_SLOWED:
		return "#d5f5e3";
	default:
		return NULL;
	}
}

static double
x_of(const struct window *w, uint64_t t)
{
	double span = (double)(w->until_ns - w->since_ns);

	if (t < w->since_ns)
		t = w->since_ns;
	if (t > w->until_ns)
		t = w->until_ns;
	return PLOT_X + PLOT_W * (double)(t - w->since_ns) / span;
}

static double
y_of(double pct)
{
	if (pct < 0)
		pct = 0;
	if (pct > 100)
		pct = 100;
	return PLOT_Y + PLOT_H * (1 - pct / 100);
}

/*
 * The speed scale, on the right: from 100% of the best down to a round
 * 10% under both the lowest speed drawn and the --slow threshold.
 */
static double
speed_floor(const struct window *w, const struct engine *e)
{
	double lo = e->opts.slow;

	for (unsigned i = 0; i < w->nrows; i++)
		if (w->rows[i].have_speed && w->rows[i].speed_min < lo)
			lo = w->rows[i].speed_min;
	lo = (double)(int)(lo * 10) / 10 - 0.1;
	return lo < 0 ? 0 : lo;
}

static double
y_speed(double speed, double lo)
{
	if (speed < lo)
		speed = lo;
	if (speed > 1)
		speed = 1;
	return PLOT_Y + PLOT_H * (1 - (speed - lo) / (1 - lo));
}

/* The speed lines, the right-hand scale and the --slow threshold. */
static void
speed_draw(FILE *f, const struct window *w, const struct engine *e)
{
	double lo = speed_floor(w, e);

	for (int p = (int)(lo * 100 + 0.5); p <= 100; p += 10)
		fprintf(f,
		    "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" "
		    "fill=\"" SPEED_COLOR "\">%d%%</text>\n",
		    PLOT_X + PLOT_W + 3, y_speed(p / 100.0, lo) + 3, p);
	fprintf(f,
	    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
	    "stroke=\"" SPEED_COLOR "\" stroke-dasharray=\"8 4\" "
	    "opacity=\"0.6\"/>\n"
	    "<text x=\"%d\" y=\"%.1f\" fill=\"" SPEED_COLOR "\">"
	    "slow threshold %.0f%% of best speed (right scale)</text>\n",
	    PLOT_X, y_speed(e->opts.slow, lo), PLOT_X + PLOT_W,
	    y_speed(e->opts.slow, lo), PLOT_X + 4,
	    y_speed(e->opts.slow, lo) - 4, 100 * e->opts.slow);
	for (int k = 0; k < 2; k++) {
		struct run run = {.color = SPEED_COLOR};

		for (unsigned i = 0; i < w->nrows; i++) {
			const struct window_row *r = &w->rows[i];
			bool joined =
			    i > 0 && w->rows[i - 1].end_ns == r->start_ns;

			if (!r->have_speed || !joined)
				run_end(f, &run);
			if (!r->have_speed)
				continue;
			if (run.n == 0) {
				fprintf(f,
				    "<polyline class=\"speed\" fill=\"none\" "
				    "stroke=\"" SPEED_COLOR "\" "
				    "stroke-width=\"%d\" "
				    "stroke-dasharray=\"%s\" points=\"",
				    k == 0 ? 2 : 1, k == 0 ? "" : "3 2");
			}
			run_point(f, &run,
			    x_of(w, r->start_ns / 2 + r->end_ns / 2),
			    y_speed(k == 0 ? r->speed : r->speed_min, lo));
		}
		run_end(f, &run);
	}
}

/* Escapes the few characters XML cares about. */
static void
put_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* Time ticks at a round step giving 4 to 12 labels. */
static void
time_axis(FILE *f, const struct window *w)
{
	static const unsigned steps[] = {60, 300, 600, 1800, 3600, 7200, 10800,
	    21600, 43200, 86400, 172800, 604800};
	uint64_t span = (w->until_ns - w->since_ns) / NSEC_PER_SEC, step = 0;
	time_t t0 = (time_t)(w->since_ns / NSEC_PER_SEC);
	struct tm tm;
	int64_t off;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if (span / step <= 10)
			break;
	}
	localtime_r(&t0, &tm);
	off = tm.tm_gmtoff;
	for (uint64_t s = ((uint64_t)((int64_t)t0 + off) / step + 1) * step;
	     s - (uint64_t)off <= (uint64_t)t0 + span; s += step) {
		time_t t = (time_t)(s - (uint64_t)off);
		char label[32];
		double x = x_of(w, (uint64_t)t * NSEC_PER_SEC);

		localtime_r(&t, &tm);
		strftime(label, sizeof(label),
		    step >= 86400                       ? "%m-%d"
		    : tm.tm_hour == 0 && tm.tm_min == 0 ? "%m-%d"
		                                        : "%H:%M",
		    &tm);
		fprintf(f,
		    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		    "stroke=\"#d5d8dc\"/>\n"
		    "<text x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%s</text>\n",
		    x, PLOT_Y, x, PLOT_Y + PLOT_H, x, PLOT_Y + PLOT_H + 16,
		    label);
	}
}

static void
draw(FILE *f, const struct window *w, const struct engine *e, const char *title)
{
	struct summary s;
	char verdict[320];
	bool speed = w->nspeed > 0;

	engine_summary(e, &s);
	snprintf(verdict, sizeof(verdict), "verdict: %s: %s",
	    verdict_name(s.verdict), s.reason);
	fprintf(f,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, "
	    "Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
	    "<text x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">",
	    SVG_W, SVG_H, SVG_W, SVG_H, PLOT_X);
	put_text(f, title);
	fprintf(f, "</text>\n<text x=\"%d\" y=\"40\" fill=\"#333\">", PLOT_X);
	put_text(f, verdict);
	fputs("</text>\n", f);

	/* Verdict periods, shaded under everything else. */
	for (unsigned i = 0; i < w->nrows; i++) {
		const struct window_row *r = &w->rows[i];
		const char *shade = shade_of(r->verdict);
		double x0 = x_of(w, r->start_ns), x1 = x_of(w, r->end_ns);

		if (shade != NULL)
			fprintf(f,
			    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			    "height=\"%d\" fill=\"%s\"><title>%s</title>"
			    "</rect>\n",
			    x0, PLOT_Y, x1 - x0 < 1 ? 1 : x1 - x0, PLOT_H,
			    shade, verdict_name(r->verdict));
	}
	/* Axes: percentages every 25%, then times. */
	for (int p = 0; p <= 100; p += 25)
		fprintf(f,
		    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		    "stroke=\"#d5d8dc\"/>\n"
		    "<text x=\"%d\" y=\"%.1f\" "
		    "text-anchor=\"end\">%d%%</text>\n",
		    PLOT_X, y_of(p), PLOT_X + PLOT_W, y_of(p), PLOT_X - 6,
		    y_of(p) + 4, p);
	time_axis(f, w);
	fprintf(f,
	    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
	    "stroke=\"#555\"/>\n",
	    PLOT_X, PLOT_Y, PLOT_W, PLOT_H);
	/* The thresholds the verdicts use. */
	fprintf(f,
	    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
	    "stroke=\"#c0392b\" stroke-dasharray=\"8 4\" opacity=\"0.7\"/>\n"
	    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#c0392b\">"
	    "steal threshold %.0f%% of wanted time</text>\n"
	    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
	    "stroke=\"#4a7fb5\" stroke-dasharray=\"8 4\" opacity=\"0.5\"/>\n"
	    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#4a7fb5\">"
	    "busy threshold %.0f%%</text>\n",
	    PLOT_X, y_of(100 * e->opts.steal), PLOT_X + PLOT_W,
	    y_of(100 * e->opts.steal), PLOT_X + PLOT_W - 4,
	    y_of(100 * e->opts.steal) - 4, 100 * e->opts.steal, PLOT_X,
	    y_of(100 * e->opts.busy), PLOT_X + PLOT_W, y_of(100 * e->opts.busy),
	    PLOT_X + PLOT_W - 4, y_of(100 * e->opts.busy) - 4,
	    100 * e->opts.busy);
	/* The lines: a point per row at its middle, broken where rows are
	 * missing (the monitor was not running). */
	for (size_t k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
		const struct series *sr = &series[k];
		struct run run = {.color = sr->color};

		for (unsigned i = 0; i < w->nrows; i++) {
			const struct window_row *r = &w->rows[i];
			double v;
			bool joined =
			    i > 0 && w->rows[i - 1].end_ns == r->start_ns;

			if (!sr->present(r)) {
				run_end(f, &run);
				continue;
			}
			if (!joined)
				run_end(f, &run);
			if (run.n == 0) {
				fprintf(f,
				    "<polyline fill=\"none\" stroke=\"%s\" "
				    "stroke-width=\"2\" "
				    "stroke-dasharray=\"%s\" "
				    "points=\"",
				    sr->color, sr->dash);
			}
			memcpy(&v, (const char *)r + sr->offset, sizeof(v));
			run_point(f, &run,
			    x_of(w, r->start_ns / 2 + r->end_ns / 2),
			    y_of(v * sr->scale));
		}
		run_end(f, &run);
	}
	if (speed)
		speed_draw(f, w, e);
	/* The legend, under the plot. */
	for (size_t k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
		/* With the speed entries the row is full: each entry starts
		 * 20 px after the label before it ends (DejaVu Sans, 12 px;
		 * tests/stealstat/t-svg.sh measures them). */
		static const int packed[] = {0, 176, 369, 531};
		_Static_assert(sizeof(packed) / sizeof(packed[0]) ==
		                   sizeof(series) / sizeof(series[0]),
		    "a legend place per series");
		int x = PLOT_X + (speed ? packed[k] : (int)k * 210),
		    y = SVG_H - 44;

		fprintf(f,
		    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		    "stroke=\"%s\" stroke-width=\"3\" "
		    "stroke-dasharray=\"%s\"/>\n"
		    "<text x=\"%d\" y=\"%d\">%s</text>\n",
		    x, y, x + 24, y, series[k].color, series[k].dash, x + 30,
		    y + 4, series[k].name);
	}
	fprintf(f,
	    "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"12\" "
	    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">stolen</text>\n"
	    "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"12\" "
	    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">capped</text>\n"
	    "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"12\" "
	    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">throttled</text>\n"
	    "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"12\" "
	    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">saturated</text>\n"
	    "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"12\" "
	    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">dropped</text>\n",
	    PLOT_X, SVG_H - 26, shade_of(VERDICT_STOLEN), PLOT_X + 30,
	    SVG_H - 16, PLOT_X + 110, SVG_H - 26, shade_of(VERDICT_CAPPED),
	    PLOT_X + 140, SVG_H - 16, PLOT_X + 220, SVG_H - 26,
	    shade_of(VERDICT_THROTTLED), PLOT_X + 250, SVG_H - 16, PLOT_X + 340,
	    SVG_H - 26, shade_of(VERDICT_SATURATED), PLOT_X + 370, SVG_H - 16,
	    PLOT_X + 460, SVG_H - 26, shade_of(VERDICT_GLITCH), PLOT_X + 490,
	    SVG_H - 16);
	if (speed) {
		int x = PLOT_X + 662, y = SVG_H - 44;

		fprintf(f,
		    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		    "stroke=\"" SPEED_COLOR "\" stroke-width=\"3\"/>\n"
		    "<text x=\"%d\" y=\"%d\">speed, %% of best (right)</text>\n"
		    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		    "stroke=\"" SPEED_COLOR "\" stroke-dasharray=\"3 2\"/>\n"
		    "<text x=\"%d\" y=\"%d\">slowest CPU</text>\n"
		    "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"12\" "
		    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">slowed</text>\n",
		    x, y, x + 24, y, x + 30, y + 4, x, y + 18, x + 24, y + 18,
		    x + 30, y + 22, PLOT_X + 560, SVG_H - 26,
		    shade_of(VERDICT_SLOWED), PLOT_X + 590, SVG_H - 16);
	}
	fputs("</svg>\n", f);
}

int
window_svg(const struct window *w, const struct engine *e, const char *path,
    const char *title)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL)
		return -ENOMEM;
	draw(f, w, e, title);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	rc = atomic_replace(path, text, len, 0644);
	free(text);
	return rc;
}
