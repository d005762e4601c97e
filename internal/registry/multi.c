/* Tag lists of many repositories at once: the first page of every list is
 * requested over one libcurl multi handle, at most r->concurrency in
 * flight per registry host. This is only a fast path: an answer that is
 * not a complete single-page JSON tag list (a challenge, a refused page
 * size, a Link to more pages, a 429 or 5xx, a transport error) is left to
 * md_registry_list_tags, which knows auth, retries, probing and paging.
 * That answer is handed to it (r->primed) as the reply to its first
 * request, so the synchronous code decides everything and no request is
 * sent twice: results and request counts are those of the synchronous
 * path, only the common case is faster. */
#include "registry_int.h"

#include <stdlib.h>
#include <string.h>

enum job_state {
	JOB_LISTED,   /* listed synchronously while planning */
	JOB_WAITING,  /* fast path, not started */
	JOB_RUNNING,
	JOB_DONE,     /* fast path answered; q->tags filled */
	JOB_FALLBACK  /* fast path gave up: list it with md_registry_list_tags */
};

struct job {
	struct md_tag_query *q;
	enum job_state state;
	char *url;
	char *authz; /* secret */
	int n;       /* page size asked for, for md_registry__net_set_page_size */
	char host[MD_REG_NET_HOST_MAX];
	CURL *easy;
	struct md_reg_request req;
	struct md_reg_response resp;
	struct md_reg_xfer x;
	int failed;        /* transport failure, sentence in err */
	struct md_err err;
};

static void job_clear(struct job *j)
{
	free(j->url);
	md_registry__secret_free(j->authz);
	md_registry__response_clear(&j->resp);
	j->url = j->authz = NULL;
}

int md_registry__primed_take(struct md_registry *r, const struct md_reg_request *req,
		       const char *url, const char *authorization,
		       struct md_reg_response *resp, struct md_err *err)
{
	struct md_reg_primed *p = r->primed;
	const char *a = p ? p->authz : NULL;

	if (!p || strcmp(req->method, "GET") != 0 || req->post_form || strcmp(url, p->url) != 0 ||
	    !((!a && !authorization) || (a && authorization && strcmp(a, authorization) == 0)))
		return 0;
	r->primed = NULL; /* once: a retry is a new request */
	if (p->failed) {
		*err = p->err;
		return -1;
	}
	md_registry__response_clear(resp);
	*resp = *p->resp;
	md_registry__response_init(p->resp);
	return 1;
}

/* The synchronous path, recording its error sentence in the query; a
 * fast-path answer for its first request (primed) is used, not resent. */
static int list_sync(struct md_registry *r, struct md_tag_query *q,
		     struct md_reg_primed *primed, struct md_err *err)
{
	struct md_err e;
	int rc;

	r->primed = primed;
	rc = md_registry_list_tags(r, q->domain, q->path, &q->tags, &e);
	r->primed = NULL;
	if (rc == 0)
		return 0;
	if (!(q->error = md_strdup(e.msg)))
		return md_err_set(err, "out of memory listing tags of %s", q->path);
	return 0;
}

/* Decide whether j can take the fast path and build its request exactly
 * as list_pages() would send its first page. 1 fast, 0 synchronous. */
static int plan(struct md_registry *r, struct job *j)
{
	struct md_tag_query *q = j->q;
	struct md_err e;
	char *url0;
	int known;

	if (md_registry__check_names(q->domain, q->path, NULL, &e) < 0)
		return 0; /* md_registry_list_tags words it */
	if (!(url0 = md_registry__tags_url(r, q->domain, q->path, 0)))
		return 0;
	/* A host not answered yet (page size unknown) is first met through
	 * the synchronous path: it learns the challenge and the page size the
	 * others then use, instead of every request paying for a 401 or 413. */
	known = md_registry__net_page_size(r, url0);
	if (known < 0 || md_registry__net_deferred(r, url0) ||
	    md_registry__url_host(url0, j->host, sizeof(j->host)) < 0) {
		free(url0);
		return 0;
	}
	free(url0);
	if (md_registry__auth_upfront(r, q->domain, q->path, &j->authz, &e) <= 0)
		return 0;
	j->n = known;
	if (!(j->url = md_registry__tags_url(r, q->domain, q->path, known)))
		return 0;
	j->req = (struct md_reg_request){ .method = "GET", .url = j->url,
					  .accept = "application/json", .what = q->domain };
	return 1;
}

static size_t running_on(const struct job *jobs, size_t n, const char *host)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (jobs[i].state == JOB_RUNNING && strcmp(jobs[i].host, host) == 0)
			k++;
	return k;
}

/* 0 when the job was added to m (or left waiting), -1 when it must go
 * the synchronous way instead. */
static int start(struct md_registry *r, CURLM *m, struct job *j)
{
	struct md_err e;

	/* Stopping: the synchronous path words the "stopped" error. */
	if (md_registry__stopping(r) || !(j->easy = curl_easy_init()))
		return -1;
	if (md_registry__xfer_prepare(r, j->easy, &j->req, j->url, j->authz, &j->resp, &j->x, &e) < 0)
		goto fail;
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, (char *)j);
	if (curl_multi_add_handle(m, j->easy) != CURLM_OK)
		goto fail;
	r->stats.requests++;
	j->state = JOB_RUNNING;
	return 0;
fail:
	md_registry__xfer_release(j->easy, &j->x);
	curl_easy_cleanup(j->easy);
	j->easy = NULL;
	return -1;
}

/* Start waiting jobs, in order, while their host has room. Returns how
 * many jobs left the fast path. */
static size_t start_waiting(struct md_registry *r, CURLM *m, struct job *jobs, size_t n)
{
	size_t dropped = 0;

	for (size_t i = 0; i < n; i++) {
		if (jobs[i].state != JOB_WAITING ||
		    running_on(jobs, n, jobs[i].host) >= (size_t)r->concurrency)
			continue;
		if (start(r, m, &jobs[i]) < 0) {
			jobs[i].state = JOB_FALLBACK;
			dropped++;
		}
	}
	return dropped;
}

/* Accept a complete single-page JSON tag list; anything else is 0. */
static int accept_page(struct job *j)
{
	struct md_reg_response *resp = &j->resp;
	struct md_strv acc = { 0 };
	struct md_tag_query *q = j->q;
	size_t n0 = q->tags.n;
	struct md_err e;
	char *link = NULL;
	int ok = 0;

	if (resp->status != 200 || !md_registry__is_json_type(resp->content_type) ||
	    md_registry__link_next(resp->link, &link) < 0 || link)
		goto out;
	if (md_registry__tags_parse(resp->body.data, resp->body.len, j->url, &acc,
			      MD_REGISTRY_MAX_TAGS, &e) < 0)
		goto out;
	for (size_t i = 0; i < acc.n; i++)
		if (md_strv_push(&q->tags, acc.v[i]) < 0) {
			while (q->tags.n > n0) /* leave q as it was */
				free(q->tags.v[--q->tags.n]);
			goto out;
		}
	ok = 1;
out:
	free(link);
	md_strv_clear(&acc);
	return ok;
}

static void finish(struct md_registry *r, CURLM *m, CURL *easy, CURLcode cc)
{
	struct job *j = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
	curl_multi_remove_handle(m, easy);
	j->state = JOB_FALLBACK;
	if (md_registry__xfer_finish(r, easy, &j->req, j->url, cc, &j->x, &j->err) < 0)
		j->failed = 1;
	else if (accept_page(j))
		j->state = JOB_DONE;
	md_registry__xfer_release(easy, &j->x);
	curl_easy_cleanup(easy);
	j->easy = NULL;
	if (j->state == JOB_DONE) {
		md_registry__net_set_page_size(r, j->url, j->n); /* as list_pages does */
		md_registry__response_clear(&j->resp);
	}
}

static void run_multi(struct md_registry *r, struct job *jobs, size_t n, size_t left)
{
	CURLM *m = curl_multi_init();
	CURLMsg *msg;
	int running = 0, queued;

	while (m && left) {
		left -= start_waiting(r, m, jobs, n);
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &queued)))
			if (msg->msg == CURLMSG_DONE) {
				finish(r, m, msg->easy_handle, msg->data.result);
				left--;
			}
		if (left && running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	/* Only after a multi failure: whatever is unfinished goes the
	 * synchronous way. */
	for (size_t i = 0; i < n; i++)
		if (jobs[i].state == JOB_RUNNING || jobs[i].state == JOB_WAITING) {
			if (jobs[i].easy) {
				curl_multi_remove_handle(m, jobs[i].easy);
				md_registry__xfer_release(jobs[i].easy, &jobs[i].x);
				curl_easy_cleanup(jobs[i].easy);
				jobs[i].easy = NULL;
			}
			jobs[i].state = JOB_FALLBACK;
		}
	if (m)
		curl_multi_cleanup(m);
}

int md_registry_list_tags_many(struct md_registry *r, struct md_tag_query *q, size_t n,
			       struct md_err *err)
{
	struct job *jobs = n ? calloc(n, sizeof(*jobs)) : NULL;
	size_t fast = 0;
	int rc = -1;

	if (n && !jobs)
		return md_err_set(err, "out of memory listing tags of %zu repositories", n);
	for (size_t i = 0; i < n; i++) {
		q[i].error = NULL;
		jobs[i].q = &q[i];
		md_registry__response_init(&jobs[i].resp);
	}
	/* In order: a synchronous listing may teach the host's page size and
	 * challenge to the queries after it. */
	for (size_t i = 0; i < n; i++) {
		if (plan(r, &jobs[i]) == 1) {
			jobs[i].state = JOB_WAITING;
			fast++;
			continue;
		}
		jobs[i].state = JOB_LISTED;
		job_clear(&jobs[i]);
		if (list_sync(r, &q[i], NULL, err) < 0)
			goto out;
	}
	if (fast)
		run_multi(r, jobs, n, fast);
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		/* Unanswered jobs (a multi failure) have nothing to hand over. */
		struct md_reg_primed p = { j->url, j->authz, &j->resp, j->failed, j->err };
		int answered = j->failed || j->resp.status != 0;

		if (j->state == JOB_FALLBACK &&
		    list_sync(r, &q[i], answered ? &p : NULL, err) < 0)
			goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		job_clear(&jobs[i]);
	free(jobs);
	return rc;
}
