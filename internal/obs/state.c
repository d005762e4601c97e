/* The snapshot the loop publishes and the HTTP thread reads: plain values
 * copied under a mutex, so the HTTP thread never sees cycle data
 * structures. Also the health rule. */
#include "magos/obs.h"
#include "obs_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const double md_obs_bucket_bounds[MD_OBS_BUCKETS] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
};

struct md_obs {
	pthread_mutex_t lock;
	struct md_obs_snapshot snap;
};

void md_obs_snapshot_init(struct md_obs_snapshot *s, int64_t now, int64_t now_mono_ms,
			  int64_t interval)
{
	memset(s, 0, sizeof(*s));
	s->start_time = now;
	s->start_mono_ms = now_mono_ms;
	s->interval = interval;
	s->last_result = -1;
}

void md_obs_observe_duration(struct md_obs_snapshot *s, double seconds)
{
	size_t i = 0;

	while (i < MD_OBS_BUCKETS && seconds > md_obs_bucket_bounds[i])
		i++;
	s->duration_buckets[i]++;
	s->duration_sum += seconds > 0 ? seconds : 0;
}

void md_obs_reg_add(struct md_obs_snapshot *s, const char *host, const char *method,
		    const char *code, uint64_t n)
{
	struct md_obs_reg_row *r;

	for (size_t i = 0; i < s->nreg; i++) {
		r = &s->reg[i];
		if (!strcmp(r->host, host) && !strcmp(r->method, method) && !strcmp(r->code, code)) {
			r->n += n;
			return;
		}
	}
	/* A full table keeps counting in its last row so totals stay right. */
	if (s->nreg == MD_OBS_REG_ROWS - 1) {
		r = &s->reg[s->nreg++];
		md_strlcpy(r->host, "other", sizeof(r->host));
		md_strlcpy(r->method, "other", sizeof(r->method));
		md_strlcpy(r->code, "other", sizeof(r->code));
	}
	if (s->nreg == MD_OBS_REG_ROWS) {
		s->reg[MD_OBS_REG_ROWS - 1].n += n;
		return;
	}
	r = &s->reg[s->nreg++];
	md_strlcpy(r->host, host, sizeof(r->host));
	md_strlcpy(r->method, method, sizeof(r->method));
	md_strlcpy(r->code, code, sizeof(r->code));
	r->n = n;
}

static const char *const result_names[] = { "success", "problems", "failure" };

int md_health_eval(const struct md_obs_snapshot *s, int64_t now_mono_ms, struct md_buf *body)
{
	int64_t window_ms = s->interval * 3 * 1000;
	int64_t since = s->last_success_mono_ms ? s->last_success_mono_ms : s->start_mono_ms;
	int64_t age_ms = now_mono_ms - since;
	int healthy = age_ms <= window_ms;
	json_t *o = json_object();
	char reason[MD_OBS_ERR_MAX + 128], ts[32];
	char *text;
	int rc = -1;

	if (!o)
		return -1;
	json_object_set_new(o, "status", json_string(healthy ? "ok" : "unhealthy"));
	json_object_set_new(o, "cycles", json_integer((json_int_t)s->cycle));
	if (s->last_result >= 0 && s->last_result < MD_OBS_NRESULTS)
		json_object_set_new(o, "last_result", json_string(result_names[s->last_result]));
	if (s->last_success) {
		md_time_format_rfc3339(s->last_success, ts, sizeof(ts));
		json_object_set_new(o, "last_success", json_string(ts));
	}
	if (!healthy) {
		if (!s->last_success_mono_ms && !s->cycle)
			snprintf(reason, sizeof(reason), "no cycle finished yet after %llds",
				 (long long)(age_ms / 1000));
		else if (!s->last_success_mono_ms)
			snprintf(reason, sizeof(reason), "no successful cycle since the start %llds "
				 "ago%s%s", (long long)(age_ms / 1000),
				 s->last_error[0] ? "; last error: " : "", s->last_error);
		else
			snprintf(reason, sizeof(reason), "last successful cycle %llds ago (limit "
				 "%llds)%s%s", (long long)(age_ms / 1000),
				 (long long)(window_ms / 1000),
				 s->last_error[0] ? "; last error: " : "", s->last_error);
		json_object_set_new(o, "reason", md_obs__json_string(reason));
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return -1;
	if (md_buf_puts(body, text) == 0 && md_buf_puts(body, "\n") == 0)
		rc = healthy ? 200 : 503;
	free(text);
	return rc;
}

int md_obs_new(struct md_obs **out, struct md_err *err)
{
	struct md_obs *o = calloc(1, sizeof(*o));

	*out = NULL;
	if (!o)
		return md_err_set(err, "out of memory");
	pthread_mutex_init(&o->lock, NULL);
	o->snap.last_result = -1;
	*out = o;
	return 0;
}

void md_obs_free(struct md_obs *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->lock);
	free(o);
}

void md_obs_publish(struct md_obs *o, const struct md_obs_snapshot *s)
{
	pthread_mutex_lock(&o->lock);
	o->snap = *s;
	pthread_mutex_unlock(&o->lock);
}

void md_obs_read(struct md_obs *o, struct md_obs_snapshot *out)
{
	pthread_mutex_lock(&o->lock);
	*out = o->snap;
	pthread_mutex_unlock(&o->lock);
}
