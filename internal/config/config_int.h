/* Private to the config module: the key table's setters (setters.c) and
 * what config.c and setters.c share. */
#ifndef MAGOS_CONFIG_INT_H
#define MAGOS_CONFIG_INT_H

#include <stddef.h>

#include "magos/config.h"

#define SHOW_MAX 80

struct key_spec;
typedef int (*setter_fn)(struct md_settings *s, const struct key_spec *k, const char *v,
			 struct md_err *err);

enum { REQUIRED = 1, MULTILINE = 2 };

struct key_spec {
	int flags;
	setter_fn set;
	size_t off; /* the field in md_settings */
	long long lo, hi;
};

/* A value as quoted in a message: one printable line of bounded length. */
const char *md_config__show(char *dst, size_t dstlen, const char *v);
int md_config__oom(struct md_err *err);

/* Setters: v is never empty; errors say what is wrong with v. */
#define CFG_SETTER(name) \
	int name(struct md_settings *s, const struct key_spec *k, const char *v, struct md_err *err)
CFG_SETTER(cfg_set_string);
CFG_SETTER(cfg_set_abspath);
CFG_SETTER(cfg_set_branch);
CFG_SETTER(cfg_set_duration);
CFG_SETTER(cfg_set_int);
CFG_SETTER(cfg_set_globs);
CFG_SETTER(cfg_set_hosts);
CFG_SETTER(cfg_set_author);
CFG_SETTER(cfg_set_template);
CFG_SETTER(cfg_set_readable);
CFG_SETTER(cfg_set_log_format);
CFG_SETTER(cfg_set_log_level);
CFG_SETTER(cfg_set_bool);
CFG_SETTER(cfg_set_mode);
CFG_SETTER(cfg_set_listen);
CFG_SETTER(cfg_set_argv);
CFG_SETTER(cfg_set_url);
CFG_SETTER(cfg_set_id);
CFG_SETTER(cfg_set_keyfile);
CFG_SETTER(cfg_set_globs_opt);

#endif
