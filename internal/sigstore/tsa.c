/* RFC 3161 timestamps from a trusted timestamp authority: a TimeStampResp
 * whose token signs the hash of the signature bytes, verified with the
 * TSA's chain from the trusted root at the token's own time. */
#include "sigstore_int.h"

#include <openssl/err.h>
#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int gen_time(TS_RESP *resp, int64_t *t)
{
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	const ASN1_GENERALIZEDTIME *gt = tst ? TS_TST_INFO_get_time(tst) : NULL;
	struct tm tm;

	if (!gt || !ASN1_TIME_to_tm(gt, &tm))
		return -1;
	*t = (int64_t)timegm(&tm);
	return 0;
}

/* One TSA of the trusted root: its anchor trusted, the rest of its chain
 * offered to find the signer (a token may embed no certificate), checked
 * at time t. */
static int verify_with_tsa(const struct sg_ca *tsa, TS_RESP *resp, const unsigned char *data,
			   size_t dlen, int64_t t)
{
	int n = sk_X509_num(tsa->chain), ok = 0;
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	X509_STORE *store = X509_STORE_new();
	X509_VERIFY_PARAM *param = X509_VERIFY_PARAM_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	BIO *bio = BIO_new_mem_buf(data, (int)dlen);

	if (!ctx || !store || !param || !certs || !bio || n < 1)
		goto out;
	for (int i = 0; i < n - 1; i++) {
		X509 *c = X509_dup(sk_X509_value(tsa->chain, i));

		if (!c || !sk_X509_push(certs, c)) {
			X509_free(c);
			goto out;
		}
	}
	if (!X509_STORE_add_cert(store, sk_X509_value(tsa->chain, n - 1)))
		goto out;
	/* The chain is judged at the token's time, not now: a TSA
	 * certificate that expired since still vouches for older stamps. */
	X509_VERIFY_PARAM_set_time(param, (time_t)t);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	if (!X509_STORE_set1_param(store, param))
		goto out;
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
	TS_VERIFY_CTX_set_store(ctx, store);
	store = NULL;
	TS_VERIFY_CTX_set_certs(ctx, certs);
	certs = NULL;
	TS_VERIFY_CTX_set_data(ctx, bio);
	bio = NULL;
	ok = TS_RESP_verify_response(ctx, resp) == 1;
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);
	X509_STORE_free(store);
	X509_VERIFY_PARAM_free(param);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	return ok;
}

int md_sigstore__check_stamp(const struct md_sigstore_root *r, const unsigned char *der,
			     size_t len, const unsigned char *data, size_t dlen, int64_t *t,
			     struct md_err *err)
{
	const unsigned char *p = der;
	TS_RESP *resp;
	char when[32];
	int in_window = 0;

	resp = d2i_TS_RESP(NULL, &p, (long)len);
	if (!resp || p != der + len) {
		TS_RESP_free(resp);
		md_err_set(err, "the RFC 3161 timestamp is not a DER TimeStampResp");
		return SG_REFUSE;
	}
	if (gen_time(resp, t) < 0) {
		TS_RESP_free(resp);
		md_err_set(err, "the RFC 3161 timestamp has no time");
		return SG_REFUSE;
	}
	md_sigstore__fmt_time(*t, when, sizeof(when));
	for (size_t i = 0; r && i < r->n_tsas; i++) {
		if (!md_sigstore__range_has(&r->tsas[i].valid, *t))
			continue;
		in_window = 1;
		if (verify_with_tsa(&r->tsas[i], resp, data, dlen, *t)) {
			TS_RESP_free(resp);
			return SG_OK;
		}
	}
	TS_RESP_free(resp);
	if (!in_window)
		md_err_set(err, "the RFC 3161 timestamp of %s is from no trusted timestamp "
				"authority valid at that time", when);
	else
		md_err_set(err, "the RFC 3161 timestamp of %s does not verify with a trusted "
				"timestamp authority over this signature", when);
	return SG_REFUSE;
}
