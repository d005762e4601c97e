/* Fuzz the image reference parser: any input either fails with a message or
 * parses into pieces that format back to the input byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_ref *r = NULL;
	struct md_err err;
	char *s, *back;

	if (size > 8192)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (md_ref_parse(&r, s, &err) == 0) {
		back = md_ref_format(r, md_ref_tag(r), md_ref_digest(r));
		/* A NUL inside the data ends the C string: compare with that. */
		if (!back || strcmp(back, s) != 0)
			abort();
		if (md_ref_tag(r) && !md_ref_valid_tag(md_ref_tag(r)))
			abort();
		if (md_ref_digest(r) && !md_ref_valid_digest(md_ref_digest(r)))
			abort();
		if (strlen(md_ref_path(r)) > 255 || !md_ref_api_host(r) || !md_ref_canonical(r))
			abort();
		free(back);
		md_ref_free(r);
	} else if (r != NULL || err.msg[0] == '\0' || strchr(err.msg, '\n')) {
		abort();
	}
	free(s);
	return 0;
}
