/* A finished cycle as numbers: the snapshot /metrics and /healthz serve,
 * and the one line systemd shows as the service's status. */
#include "status_int.h"

#include <stdio.h>
#include <string.h>

static enum md_obs_cycle_result result_of(const struct status_cycle *c)
{
	if (c->rc < 0)
		return MD_OBS_FAILURE;
	return c->rep->nproblems ? MD_OBS_PROBLEMS : MD_OBS_SUCCESS;
}

static void count_updates(struct md_obs_snapshot *s, const struct status_cycle *c)
{
	const struct md_cycle_report *rep = c->rep;
	uint64_t n = rep->nchanges;

	if (c->rc < 0) {
		s->updates[MD_OBS_UPD_FAILED] += n;
		if (c->mode == MD_MODE_PUSH && (n || rep->commit[0]) && !rep->pushed)
			s->pushes_failed++;
		return;
	}
	if (c->mode == MD_MODE_PR) {
		s->updates[MD_OBS_UPD_PROPOSED] += n;
		return;
	}
	if (!rep->commit[0])
		return;
	s->updates[rep->pushed ? MD_OBS_UPD_PUSHED : MD_OBS_UPD_COMMITTED] += n;
	if (rep->pushed)
		s->pushes_ok++;
}

static void count_stacks(struct md_obs_snapshot *s, const struct md_cycle_report *rep)
{
	for (size_t i = 0; i < rep->nstacks; i++) {
		const struct md_stack_report *st = &rep->stacks[i];

		switch (st->outcome) {
		case MD_STACK_APPLIED:
			s->stacks[MD_OBS_STACK_APPLIED]++;
			if (st->reason && !strncmp(st->reason, "drift", 5))
				s->drift_repairs++;
			break;
		case MD_STACK_FAILED:
			s->stacks[MD_OBS_STACK_FAILED]++;
			break;
		case MD_STACK_ROLLED_BACK:
			s->stacks[MD_OBS_STACK_ROLLED_BACK]++;
			break;
		default:
			break;
		}
	}
}

void status_record(struct md_obs_snapshot *s, const struct status_cycle *c)
{
	enum md_obs_cycle_result r = result_of(c);

	s->cycle++;
	s->cycles[r]++;
	s->last_result = (int)r;
	s->last_finish_mono_ms = c->now_mono_ms;
	md_obs_observe_duration(s, (double)c->duration_ms / 1000.0);
	s->sites = c->rep->nsites;
	count_updates(s, c);
	count_stacks(s, c->rep);
	if (r == MD_OBS_SUCCESS) {
		s->last_success = c->now;
		s->last_success_mono_ms = c->now_mono_ms;
		s->last_error[0] = '\0';
	} else if (r == MD_OBS_FAILURE) {
		md_strlcpy(s->last_error, c->error ? c->error : "unknown error",
			   sizeof(s->last_error));
	} else {
		snprintf(s->last_error, sizeof(s->last_error), "%zu site(s) skipped; first: %s",
			 c->rep->nproblems, c->rep->problems[0].text);
	}
}

void status_registry(struct md_obs_snapshot *s, struct status_reg_seen *seen,
		     const struct md_registry *reg)
{
	struct md_registry_counter rc;

	if (!reg)
		return;
	if (seen->client != reg) {
		seen->client = reg;
		seen->n = 0;
	}
	for (size_t i = 0; md_registry_counter(reg, i, &rc) == 0; i++) {
		struct md_obs_reg_row *row = NULL;
		uint64_t delta;

		for (size_t j = 0; j < seen->n && !row; j++)
			if (!strcmp(seen->rows[j].host, rc.host) &&
			    !strcmp(seen->rows[j].method, rc.method) &&
			    !strcmp(seen->rows[j].code, rc.status_class))
				row = &seen->rows[j];
		if (!row && seen->n < MD_OBS_REG_ROWS) {
			row = &seen->rows[seen->n++];
			md_strlcpy(row->host, rc.host, sizeof(row->host));
			md_strlcpy(row->method, rc.method, sizeof(row->method));
			md_strlcpy(row->code, rc.status_class, sizeof(row->code));
			row->n = 0;
		}
		if (!row)
			continue;
		delta = rc.n >= row->n ? rc.n - row->n : rc.n;
		row->n = rc.n;
		if (delta)
			md_obs_reg_add(s, rc.host, rc.method, rc.status_class, delta);
	}
}

void status_line(char *out, size_t outlen, const struct md_obs_snapshot *s,
		 const struct status_cycle *c)
{
	const struct md_cycle_report *rep = c->rep;
	double secs = (double)c->duration_ms / 1000.0;

	if (c->rc < 0) {
		snprintf(out, outlen, "cycle %llu failed after %.1fs: %s", (unsigned long long)s->cycle,
			 secs, c->error ? c->error : "unknown error");
		return;
	}
	snprintf(out, outlen, "cycle %llu %s in %.1fs: %zu images, %zu updated%s%.12s%s",
		 (unsigned long long)s->cycle, rep->nproblems ? "had problems" : "ok", secs,
		 rep->nsites, rep->nchanges, rep->commit[0] ? ", commit " : "", rep->commit,
		 rep->nproblems ? ", some sites skipped" : "");
}
