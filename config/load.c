/* config/load.c: filling the configuration from its four sources in order: defaults, file,
 * environment, flags. Each error names where the bad value was written, since that is where it
 * must be fixed; hcc_finish() (finish.c) then checks the result the same way. */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "hcc_internal.h"



/* ---- the file ---- */

#define T(type) (1u << CONFIG_TYPE_##type)
/* The libconfig types each key type takes. The file is typed: "1024" in quotes is a string, and
 * refusing it for an integer catches the file whose author meant something else. */
static const unsigned accepts[] = {
    [HCC_T_STRING] = T(STRING),       [HCC_T_LIST] = T(STRING) | T(ARRAY) | T(LIST),
    [HCC_T_INT] = T(INT) | T(INT64),  [HCC_T_FLOAT] = T(INT) | T(INT64) | T(FLOAT),
    [HCC_T_BOOL] = T(BOOL),           [HCC_T_LEVEL] = T(STRING),
};
#undef T
_Static_assert(HCC_COUNTOF(accepts) == HCC_NTYPES, "the libconfig types of every key type");

/* The items of a list setting joined by commas, the text form of a LIST; NULL when out of
 * memory, or when an item is not a string (*bad). */
static char *join_strings(const config_setting_t *s, bool *bad)
{
    size_t len = 1;
    char *text;
    int n = config_setting_length(s);

    for (int i = 0; i < n; i++) {
        const char *item = config_setting_get_string_elem(s, i);

        if (item == NULL) {
            *bad = true;
            return NULL;
        }
        len += strlen(item) + 1;
    }
    text = calloc(1, len);
    for (int i = 0; text != NULL && i < n; i++) {
        strcat(text, config_setting_get_string_elem(s, i));
        strcat(text, i + 1 < n ? "," : "");
    }
    return text;
}

/* A scalar setting's value in the text form hcc_set() reads (malloc'd), or NULL if out of
 * memory. */
static char *scalar_text(const config_setting_t *s)
{
    char buf[40];

    switch (config_setting_type(s)) {
    case CONFIG_TYPE_STRING:
        return strdup(config_setting_get_string(s));
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        snprintf(buf, sizeof(buf), "%lld", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT:
        snprintf(buf, sizeof(buf), "%.17g", config_setting_get_float(s));
        break;
    default:
        snprintf(buf, sizeof(buf), "%s", config_setting_get_bool(s) ? "true" : "false");
        break;
    }
    return strdup(buf);
}

/* The setting's value as text for |key| (malloc'd); NULL when out of memory, or when the
 * setting's type does not suit the key (*bad). */
static char *setting_text(const config_setting_t *s, const hcc_key_t *key, bool *bad)
{
    if ((accepts[key->type] & (1u << config_setting_type(s))) == 0) {
        *bad = true;
        return NULL;
    }
    return config_setting_is_aggregate(s) ? join_strings(s, bad) : scalar_text(s);
}

/* The file a setting was read from: |path|, or another that |path| pulled in by @include. */
static const char *source_of(const config_setting_t *s, const char *path)
{
    const char *file = config_setting_source_file(s);

    return file != NULL ? file : path;
}

static int load_key(hcc_config_t *cfg, const hcc_key_t *key, const config_setting_t *s,
                    const char *path, char *err, size_t errlen)
{
    const char *src = source_of(s, path);
    unsigned line = config_setting_source_line(s);
    bool bad = false;
    char *text = setting_text(s, key, &bad), reason[256];
    int rc;

    if (text == NULL && bad)
        hcc_key_expect(key, reason, sizeof(reason));
    if (text == NULL)
        return hcc__fail(err, errlen, "%s:%u: %s: %s", src, line, key->name,
                    bad ? reason : "out of memory");
    rc = hcc_set(cfg, key->name, text, reason, sizeof(reason));
    free(text);
    if (rc != 0)
        return hcc__fail(err, errlen, "%s:%u: %s: %s", src, line, key->name, reason);
    /* hcc_finish() names cfg->source: a line of an included file would point at the wrong one. */
    cfg->origin[key - hcc_keys] =
        (struct hcc_origin){HCC_FROM_FILE, strcmp(src, path) == 0 ? line : 0};
    return 0;
}

/* Whether |name| is a group some key lives in: "http" for "http.listen". */
static bool is_group(const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < HCC_NKEYS; i++)
        if (strncmp(hcc_keys[i].name, name, len) == 0 && hcc_keys[i].name[len] == '.')
            return true;
    return false;
}

/* One setting of the file: a key, a group of keys, or a mistake that must not pass silently.
 * 0 when it was a key and is loaded, 1 when it is a group to walk, -1 on an error. */
static int load_setting(hcc_config_t *cfg, const config_setting_t *s, const char *name,
                        const char *path, char *err, size_t errlen)
{
    const hcc_key_t *key = hcc_key_find(name);
    const char *src = source_of(s, path);
    unsigned line = config_setting_source_line(s);

    if (key != NULL)
        return load_key(cfg, key, s, path, err, errlen);
    if (!is_group(name))
        return hcc__fail(err, errlen, "%s:%u: %s: unknown key", src, line, name);
    if (!config_setting_is_group(s))
        return hcc__fail(err, errlen, "%s:%u: %s: must be a group: %s: { ... };", src, line, name,
                    name);
    return 1;
}

/* Every setting under |root| in the file's order, groups depth first. No recursion and no stack:
 * libconfig's settings know their parent and their place in it, so a finished group hands the
 * walk back to the setting after it; the name's prefix loses its last part on the way up. */
static int load_tree(hcc_config_t *cfg, const config_setting_t *root, const char *path, char *err,
                     size_t errlen)
{
    const config_setting_t *group = root;
    char prefix[128] = "";
    int next = 0;

    for (;;) {
        const config_setting_t *s;
        char name[sizeof prefix], *dot;
        int rc;

        if (next < config_setting_length(group)) {
            s = config_setting_get_elem(group, (unsigned)next++);
            snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] != '\0' ? "." : "",
                     config_setting_name(s));
            if ((rc = load_setting(cfg, s, name, path, err, errlen)) < 0)
                return -1;
            if (rc > 0) { /* into the group */
                group = s;
                next = 0;
                memcpy(prefix, name, sizeof prefix);
            }
            continue;
        }
        if (group == root)
            return 0;
        next = config_setting_index(group) + 1;
        group = config_setting_parent(group);
        dot = strrchr(prefix, '.');
        *(dot != NULL ? dot : prefix) = '\0';
    }
}

/* libconfig's own words follow ours, except when they would only repeat them. */
static int read_failed(const config_t *lc, const char *path, int saved_errno, char *err,
                       size_t errlen)
{
    const char *file = config_error_file(lc) != NULL ? config_error_file(lc) : path;
    const char *text = config_error_text(lc) != NULL ? config_error_text(lc) : "";

    if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
        return hcc__fail(err, errlen, "%s: cannot read: %s", path, strerror(saved_errno));
    if (strcmp(text, "syntax error") == 0 || text[0] == '\0')
        return hcc__fail(err, errlen, "%s:%d: syntax error", file, config_error_line(lc));
    return hcc__fail(err, errlen, "%s:%d: syntax error: %s", file, config_error_line(lc), text);
}

int hcc_load_file(hcc_config_t *cfg, const char *path, char *err, size_t errlen)
{
    config_t lc;
    int rc;

    free(cfg->source);
    cfg->source = strdup(path);
    if (cfg->source == NULL)
        return hcc__fail(err, errlen, "%s: out of memory", path);
    config_init(&lc);
    errno = 0;
    if (config_read_file(&lc, path) != CONFIG_TRUE)
        rc = read_failed(&lc, path, errno, err, errlen);
    else
        rc = load_tree(cfg, config_root_setting(&lc), path, err, errlen);
    config_destroy(&lc);
    return rc;
}

/* ---- environment and flags ---- */

#define ENV_PREFIX "HCPROXY_"
#define ENV_CONFIG "HCPROXY_CONFIG"

/* The value of |name| in |envp|, or NULL; an empty value counts as unset, as in a compose file
 * that lists the variable without giving it. */
static const char *env_get(char **envp, const char *name)
{
    size_t len = strlen(name);

    for (; envp != NULL && *envp != NULL; envp++)
        if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
            return (*envp)[len + 1] != '\0' ? *envp + len + 1 : NULL;
    return NULL;
}

static const hcc_key_t *key_of_env(const char *name, size_t len)
{
    char env[64];

    for (size_t i = 0; i < HCC_NKEYS; i++) {
        hcc_key_env(&hcc_keys[i], env, sizeof(env));
        if (strlen(env) == len && strncmp(env, name, len) == 0)
            return &hcc_keys[i];
    }
    return NULL;
}

/* Whether |s| is one or more decimal digits. */
static bool all_digits(const char *s, size_t len)
{
    return len > 0 && strspn(s, "0123456789") >= len;
}

/* Whether |value| is "tcp://", "udp://" or "sctp://" and more: a Docker-link style address. */
static bool is_link_address(const char *value)
{
    return strncmp(value, "tcp://", 6) == 0 || strncmp(value, "udp://", 6) == 0 ||
           strncmp(value, "sctp://", 7) == 0;
}

/* Whether |rest| is "8080_TCP" (then |tail| is what follows it) with a known protocol. */
static bool is_port_proto(const char *rest, size_t len, const char **tail)
{
    static const char *const protos[] = {"_TCP", "_UDP", "_SCTP"};
    size_t digits = strspn(rest, "0123456789");

    if (digits == 0 || digits >= len)
        return false;
    for (size_t i = 0; i < HCC_COUNTOF(protos); i++) {
        size_t n = strlen(protos[i]);
        if (digits + n <= len && strncmp(rest + digits, protos[i], n) == 0) {
            *tail = rest + digits + n;
            return true;
        }
    }
    return false;
}

/* Whether the variable |name| (|len| bytes) = |value| is one Kubernetes writes into every
 * container for each Service of its namespace ("Services" in the Kubernetes documentation,
 * "Environment variables"): for a Service "hcproxy", HCPROXY_SERVICE_HOST=10.0.0.11,
 * HCPROXY_SERVICE_PORT=8080, HCPROXY_SERVICE_PORT_HTTP=8080, HCPROXY_PORT=tcp://10.0.0.11:8080,
 * HCPROXY_PORT_8080_TCP=tcp://..., HCPROXY_PORT_8080_TCP_PROTO=tcp, ..._PORT=8080,
 * ..._ADDR=10.0.0.11; a Service "hcproxy-http" gives HCPROXY_HTTP_SERVICE_HOST and so on. The
 * value must have the shape Kubernetes gives it too, so that a mistaken HCPROXY_HTTP_PORT=9000
 * is still refused. */
static bool is_service_link(const char *name, size_t len, const char *value)
{
    for (const char *p = name; (p = memchr(p, '_', len - (size_t)(p - name))) != NULL; p++) {
        const char *rest = p + 1, *tail;
        size_t rlen = len - (size_t)(rest - name);

        if (rlen == 12 && strncmp(rest, "SERVICE_HOST", 12) == 0)
            return value[0] != '\0';
        if (rlen >= 12 && strncmp(rest, "SERVICE_PORT", 12) == 0 &&
            (rlen == 12 || rest[12] == '_'))
            return all_digits(value, strlen(value));
        if (rlen == 4 && strncmp(rest, "PORT", 4) == 0)
            return is_link_address(value);
        if (rlen > 5 && strncmp(rest, "PORT_", 5) == 0 && is_port_proto(rest + 5, rlen - 5, &tail)) {
            size_t tlen = len - (size_t)(tail - name);
            if (tlen == 0)
                return is_link_address(value);
            if (tlen == 6 && strncmp(tail, "_PROTO", 6) == 0)
                return strcmp(value, "tcp") == 0 || strcmp(value, "udp") == 0 ||
                       strcmp(value, "sctp") == 0;
            if (tlen == 5 && strncmp(tail, "_PORT", 5) == 0)
                return all_digits(value, strlen(value));
            if (tlen == 5 && strncmp(tail, "_ADDR", 5) == 0)
                return value[0] != '\0';
        }
    }
    return false;
}

/* A variable overrides a key the file sets: legal, but the file then says one thing and hcproxy
 * does another, so the operator hears of it (--check-config, and the log at start). */
static int note_file_overridden(hcc_config_t *cfg, const hcc_key_t *key, const char *env,
                                size_t len)
{
    const struct hcc_origin *o = &cfg->origin[key - hcc_keys];

    if (o->from != HCC_FROM_FILE)
        return 0;
    if (o->line > 0)
        return hcc__warn(cfg, "%.*s overrides %s, set at %s:%u", (int)len, env, key->name,
                         cfg->source, o->line);
    return hcc__warn(cfg, "%.*s overrides %s, set in %s", (int)len, env, key->name, cfg->source);
}

/* Every HCPROXY_* variable must be a key: a misspelt one would otherwise be ignored in silence,
 * and the proxy would run with a setting its operator believes changed (a misspelt
 * HCPROXY_HTTP_BEARER_TOKEN would leave the proxy open). Only the variables Kubernetes writes
 * for a Service whose name begins with "hcproxy" are passed over: the pod cannot prevent them,
 * and they could never be keys. */
static int apply_env(hcc_config_t *cfg, char **envp, char *err, size_t errlen)
{
    char reason[256];

    for (; envp != NULL && *envp != NULL; envp++) {
        const char *eq = strchr(*envp, '=');
        size_t len = eq != NULL ? (size_t)(eq - *envp) : strlen(*envp);
        const hcc_key_t *key;

        if (strncmp(*envp, ENV_PREFIX, strlen(ENV_PREFIX)) != 0 || eq == NULL)
            continue;
        if (len == strlen(ENV_CONFIG) && strncmp(*envp, ENV_CONFIG, len) == 0)
            continue;
        key = key_of_env(*envp, len);
        if (key == NULL && is_service_link(*envp, len, eq + 1))
            continue;
        if (key == NULL)
            return hcc__fail(err, errlen, "%.*s: unknown variable (see --help)", (int)len, *envp);
        if (note_file_overridden(cfg, key, *envp, len) != 0)
            return hcc__fail(err, errlen, "out of memory");
        if (hcc_set(cfg, key->name, eq + 1, reason, sizeof(reason)) != 0)
            return hcc__fail(err, errlen, "%.*s: %s: %s", (int)len, *envp, key->name, reason);
        cfg->origin[key - hcc_keys] = (struct hcc_origin){HCC_FROM_ENV, 0};
    }
    return 0;
}

/* The flags that are not keys. */
static const struct {
    const char *name, *alias;
    bool takes_value;
    hcc_action_t action;
} specials[] = {
    {"--config", NULL, true, HCC_RUN},
    {"--check-config", NULL, false, HCC_CHECK},
    {"--health-check", NULL, false, HCC_HEALTH},
    {"--help", "-h", false, HCC_HELP},
    {"--version", "-V", false, HCC_VERSION},
};

/* When flags ask for several actions, the one that reads less wins: --help needs no file. */
static const int action_rank[] = {[HCC_RUN] = 0, [HCC_HEALTH] = 1, [HCC_CHECK] = 2,
                                  [HCC_VERSION] = 3, [HCC_HELP] = 4};

typedef struct flag {
    char name[64];        /* "--http-listen", without "=VALUE" */
    const hcc_key_t *key; /* or NULL for a special */
    int special;          /* index in specials[], or -1 */
    const char *value;    /* NULL when the flag takes none */
} flag_t;

static bool find_flag(flag_t *f)
{
    char name[64];

    f->key = NULL;
    for (size_t i = 0; i < HCC_COUNTOF(specials); i++) {
        if (strcmp(f->name, specials[i].name) == 0 ||
            (specials[i].alias != NULL && strcmp(f->name, specials[i].alias) == 0)) {
            f->special = (int)i;
            return true;
        }
    }
    f->special = -1;
    for (size_t i = 0; i < HCC_NKEYS && f->key == NULL; i++) {
        hcc_key_flag(&hcc_keys[i], name, sizeof(name));
        f->key = strcmp(f->name, name) == 0 ? &hcc_keys[i] : NULL;
    }
    return f->key != NULL;
}

/* Reads the flag at argv[*i] ("--key VALUE", "--key=VALUE", "-h") and steps *i past it. */
static int next_flag(int argc, char **argv, int *i, flag_t *f, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    bool takes_value;

    if (arg[0] != '-')
        return hcc__fail(err, errlen, "%s: unexpected argument (see --help)", arg);
    snprintf(f->name, sizeof(f->name), "%.*s", (int)len, arg);
    if (len >= sizeof(f->name) || !find_flag(f))
        return hcc__fail(err, errlen, "%.*s: unknown flag (see --help)", (int)len, arg);
    takes_value = f->key != NULL || specials[f->special].takes_value;
    f->value = eq != NULL ? eq + 1 : NULL;
    if (!takes_value && eq != NULL)
        return hcc__fail(err, errlen, "%s: takes no value", f->name);
    if (takes_value && eq == NULL && *i + 1 >= argc)
        return hcc__fail(err, errlen, "%s: needs a value", f->name);
    if (takes_value && eq == NULL)
        f->value = argv[++*i];
    ++*i;
    return 0;
}

/* First pass: the action and the file, which must be known before any key is read. */
static int scan_flags(int argc, char **argv, hcc_action_t *action, const char **file, char *err,
                      size_t errlen)
{
    flag_t f;

    for (int i = 1; i < argc;) {
        if (next_flag(argc, argv, &i, &f, err, errlen) != 0)
            return -1;
        if (f.special < 0)
            continue;
        if (strcmp(specials[f.special].name, "--config") == 0)
            *file = f.value;
        if (action_rank[specials[f.special].action] > action_rank[*action])
            *action = specials[f.special].action;
    }
    return 0;
}

static int apply_flags(hcc_config_t *cfg, int argc, char **argv, char *err, size_t errlen)
{
    char reason[256];
    flag_t f;

    for (int i = 1; i < argc;) {
        if (next_flag(argc, argv, &i, &f, err, errlen) != 0)
            return -1;
        if (f.key == NULL)
            continue;
        if (hcc_set(cfg, f.key->name, f.value, reason, sizeof(reason)) != 0)
            return hcc__fail(err, errlen, "%s: %s", f.name, reason);
        cfg->origin[f.key - hcc_keys] = (struct hcc_origin){HCC_FROM_FLAG, 0};
    }
    return 0;
}

int hcc_configure(hcc_config_t *cfg, int argc, char **argv, char **envp, hcc_action_t *action,
                  char *err, size_t errlen)
{
    const char *file = NULL;

    *action = HCC_RUN;
    if (hcc_defaults(cfg, err, errlen) != 0)
        return -1;
    if (scan_flags(argc, argv, action, &file, err, errlen) != 0)
        return -1;
    if (*action == HCC_HELP || *action == HCC_VERSION)
        return 0; /* a broken file or variable must not hide the help that would fix it */
    if (file == NULL)
        file = env_get(envp, ENV_CONFIG);
    if (file != NULL && hcc_load_file(cfg, file, err, errlen) != 0)
        return -1;
    if (apply_env(cfg, envp, err, errlen) != 0)
        return -1;
    if (apply_flags(cfg, argc, argv, err, errlen) != 0)
        return -1;
    return hcc_finish(cfg, err, errlen);
}
