/* Value parsers shared with other modules: booleans and "Name <email>". */
#include "magos/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTHOR_MAX 512

int md_config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int has_any(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (strchr(set, s[i]) || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* Git strips '<', '>' and newlines from identities; refusing them here
 * means the author written is the author configured. */
int md_config_parse_author(const char *s, char **name, char **email, struct md_err *err)
{
	const char *a = s, *b, *lt, *gt, *ne;
	char *n = NULL, *e = NULL;
	const char *why = "expected 'Name <email>'";

	if (!s || strlen(s) > AUTHOR_MAX)
		return md_err_set(err, "invalid author (expected 'Name <email>' of at most %d "
				       "characters)", AUTHOR_MAX);
	while (is_space(*a))
		a++;
	b = a + strlen(a);
	while (b > a && is_space(b[-1]))
		b--;
	gt = b > a ? b - 1 : NULL;
	lt = gt ? memrchr(a, '<', (size_t)(gt - a)) : NULL;
	if (!gt || *gt != '>' || !lt)
		goto bad;
	ne = lt;
	while (ne > a && is_space(ne[-1]))
		ne--;
	if (ne == a) {
		why = "the name before <email> is empty";
		goto bad;
	}
	if (lt + 1 == gt) {
		why = "the email between < and > is empty";
		goto bad;
	}
	if (has_any(a, (size_t)(ne - a), "<>")) {
		why = "the name contains '<', '>' or a control character";
		goto bad;
	}
	if (has_any(lt + 1, (size_t)(gt - lt - 1), "<> \t")) {
		why = "the email contains a space, '<', '>' or a control character";
		goto bad;
	}
	n = md_strndup(a, (size_t)(ne - a));
	e = md_strndup(lt + 1, (size_t)(gt - lt - 1));
	if (!n || !e) {
		free(n);
		free(e);
		return md_err_set(err, "out of memory");
	}
	*name = n;
	*email = e;
	return 0;
bad:
	if (has_any(s, strlen(s), ""))
		return md_err_set(err, "invalid author (%s)", why);
	return md_err_set(err, "invalid author '%s' (%s)", s, why);
}
