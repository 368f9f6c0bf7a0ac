/* config/text.c: the key table from keys.def, each key's text form (defaults, environment,
 * flags) turned into its typed field, and the way back (hcc_print(), --help). */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hcc.h"
#include "hcc_internal.h"


const hcc_key_t hcc_keys[HCC_NKEYS] = {
#define HCC_KEY(field, key, type, def, min, max, help)                                           \
    {key, HCC_T_##type, offsetof(hcc_config_t, field), def, min, max, help},
#include "keys.def"
#undef HCC_KEY
};

static const char *const level_names[] = {
    [HCC_LOG_ERROR] = "error",
    [HCC_LOG_WARN] = "warn",
    [HCC_LOG_INFO] = "info",
    [HCC_LOG_DEBUG] = "debug",
};
_Static_assert(HCC_COUNTOF(level_names) == HCC_LOG_DEBUG + 1, "a name for every level");

/* The words people use for a switch in environment files and shells, not only C's. */
static const struct {
    const char *word;
    bool value;
} bool_words[] = {
    {"true", true}, {"false", false}, {"yes", true}, {"no", false},
    {"on", true},   {"off", false},   {"1", true},   {"0", false},
};

/* A parsed value before it replaces the field, so that a bad value leaves |cfg| unchanged. Every
 * member sits at offset 0, so the field gets the first size_of_type[] bytes. */
typedef union value {
    char *s;
    hcc_list_t list;
    long long i;
    double f;
    bool b;
    hcc_level_t level;
} value_t;

static const size_t size_of_type[] = {
    [HCC_T_STRING] = sizeof(char *),  [HCC_T_LIST] = sizeof(hcc_list_t),
    [HCC_T_INT] = sizeof(long long),  [HCC_T_FLOAT] = sizeof(double),
    [HCC_T_BOOL] = sizeof(bool),      [HCC_T_LEVEL] = sizeof(hcc_level_t),
};
_Static_assert(HCC_COUNTOF(size_of_type) == HCC_NTYPES, "a size for every type");

/* Parsers answer 0, BAD (the value breaks hcc_key_expect()'s rule) or NOMEM. */
enum { BAD = -1, NOMEM = -2 };

static void *field_of(hcc_config_t *cfg, const hcc_key_t *key)
{
    return (char *)cfg + key->offset;
}

static const void *const_field_of(const hcc_config_t *cfg, const hcc_key_t *key)
{
    return (const char *)cfg + key->offset;
}

const hcc_key_t *hcc_key_find(const char *name)
{
    for (size_t i = 0; i < HCC_NKEYS; i++)
        if (strcmp(hcc_keys[i].name, name) == 0)
            return &hcc_keys[i];
    return NULL;
}

void hcc_key_expect(const hcc_key_t *key, char *buf, size_t len)
{
    switch (key->type) {
    case HCC_T_STRING:
        snprintf(buf, len, "must be a string");
        break;
    case HCC_T_LIST:
        snprintf(buf, len, "must be a string or a list of strings");
        break;
    case HCC_T_INT:
        snprintf(buf, len, "must be an integer from %lld to %lld", (long long)key->min,
                 (long long)key->max);
        break;
    case HCC_T_FLOAT:
        snprintf(buf, len, "must be a number from %g to %g", key->min, key->max);
        break;
    case HCC_T_BOOL:
        snprintf(buf, len, "must be true or false");
        break;
    case HCC_T_LEVEL:
        snprintf(buf, len, "must be %s, %s, %s or %s", level_names[0], level_names[1],
                 level_names[2], level_names[3]);
        break;
    }
}

/* The one rule turning "http.max_connections" into a flag or a variable name: '.' and '_'
 * become |sep|, letters take |to_case|. */
static void key_rename(const hcc_key_t *key, const char *prefix, char sep, int (*to_case)(int),
                       char *buf, size_t len)
{
    size_t n = strlen(prefix);
    const char *p = key->name;

    if (len == 0)
        return;
    snprintf(buf, len, "%s", prefix);
    for (; *p != '\0' && n + 1 < len; p++, n++)
        buf[n] = (*p == '.' || *p == '_') ? sep : (char)to_case((unsigned char)*p);
    buf[n < len ? n : len - 1] = '\0';
}

void hcc_key_flag(const hcc_key_t *key, char *buf, size_t len)
{
    key_rename(key, "--", '-', tolower, buf, len);
}

void hcc_key_env(const hcc_key_t *key, char *buf, size_t len)
{
    key_rename(key, "HCPROXY_", '_', toupper, buf, len);
}

/* ---- text -> value ---- */

static void list_free(hcc_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static int parse_string(const hcc_key_t *key, const char *text, value_t *v)
{
    (void)key;
    v->s = strdup(text);
    return v->s != NULL ? 0 : NOMEM;
}

/* Appends |text|[0, len) with its spaces trimmed, unless nothing is left: "a, b," is two items,
 * so a trailing comma or an empty variable means no item rather than an empty one. */
static int list_add_trimmed(hcc_list_t *list, const char *text, size_t len)
{
    while (len > 0 && isspace((unsigned char)text[0]))
        text++, len--;
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len == 0)
        return 0;
    list->items[list->count] = strndup(text, len);
    if (list->items[list->count] == NULL)
        return NOMEM;
    list->count++;
    return 0;
}

static int parse_list(const hcc_key_t *key, const char *text, value_t *v)
{
    size_t most = 1;
    const char *p;

    (void)key;
    for (p = text; *p != '\0'; p++)
        most += *p == ',';
    v->list.count = 0;
    v->list.items = calloc(most, sizeof(char *));
    if (v->list.items == NULL)
        return NOMEM;
    for (p = text;; p++) {
        size_t len = strcspn(p, ",");

        if (list_add_trimmed(&v->list, p, len) != 0) {
            list_free(&v->list);
            return NOMEM;
        }
        p += len;
        if (*p == '\0')
            return 0;
    }
}

/* Whether only spaces follow |end|: strtoll() and strtod() stop at the first stray byte. */
static bool rest_is_blank(const char *end)
{
    while (isspace((unsigned char)*end))
        end++;
    return *end == '\0';
}

static int parse_int(const hcc_key_t *key, const char *text, value_t *v)
{
    char *end;

    errno = 0;
    v->i = strtoll(text, &end, 10);
    if (end == text || !rest_is_blank(end) || errno == ERANGE)
        return BAD;
    if (v->i < (long long)key->min || v->i > (long long)key->max)
        return BAD;
    return 0;
}

static int parse_float(const hcc_key_t *key, const char *text, value_t *v)
{
    char *end;

    errno = 0;
    v->f = strtod(text, &end);
    if (end == text || !rest_is_blank(end) || errno == ERANGE || !isfinite(v->f))
        return BAD;
    if (v->f < key->min || v->f > key->max)
        return BAD;
    return 0;
}

static int parse_bool(const hcc_key_t *key, const char *text, value_t *v)
{
    (void)key;
    for (size_t i = 0; i < HCC_COUNTOF(bool_words); i++) {
        if (strcasecmp(text, bool_words[i].word) == 0) {
            v->b = bool_words[i].value;
            return 0;
        }
    }
    return BAD;
}

static int parse_level(const hcc_key_t *key, const char *text, value_t *v)
{
    (void)key;
    for (size_t i = 0; i < HCC_COUNTOF(level_names); i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            v->level = (hcc_level_t)i;
            return 0;
        }
    }
    return BAD;
}

static int (*const parsers[])(const hcc_key_t *, const char *, value_t *) = {
    [HCC_T_STRING] = parse_string, [HCC_T_LIST] = parse_list,   [HCC_T_INT] = parse_int,
    [HCC_T_FLOAT] = parse_float,   [HCC_T_BOOL] = parse_bool,   [HCC_T_LEVEL] = parse_level,
};
_Static_assert(HCC_COUNTOF(parsers) == HCC_NTYPES, "a parser for every type");

/* Frees what the field of |key| owns; only STRING and LIST own memory. */
static void field_release(hcc_config_t *cfg, const hcc_key_t *key)
{
    if (key->type == HCC_T_STRING) {
        char **s = field_of(cfg, key);

        free(*s);
        *s = NULL;
    } else if (key->type == HCC_T_LIST) {
        list_free(field_of(cfg, key));
    }
}

int hcc_set(hcc_config_t *cfg, const char *key, const char *text, char *err, size_t errlen)
{
    const hcc_key_t *k = hcc_key_find(key);
    value_t v;
    int rc;

    if (k == NULL) {
        snprintf(err, errlen, "unknown key");
        return -1;
    }
    rc = text != NULL ? parsers[k->type](k, text, &v) : BAD;
    if (rc == NOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc == BAD)
        hcc_key_expect(k, err, errlen);
    if (rc != 0)
        return -1;
    field_release(cfg, k);
    memcpy(field_of(cfg, k), &v, size_of_type[k->type]);
    cfg->origin[k - hcc_keys] = (struct hcc_origin){HCC_FROM_CALLER, 0};
    return 0;
}

bool hcc_key_equal(const hcc_config_t *a, const hcc_config_t *b, enum hcc_key_id id)
{
    const hcc_key_t *k = &hcc_keys[id];
    const void *fa = const_field_of(a, k), *fb = const_field_of(b, k);

    switch (k->type) {
    case HCC_T_STRING:
        return strcmp(*(char *const *)fa, *(char *const *)fb) == 0;
    case HCC_T_LIST: {
        const hcc_list_t *la = fa, *lb = fb;

        if (la->count != lb->count)
            return false;
        for (size_t i = 0; i < la->count; i++)
            if (strcmp(la->items[i], lb->items[i]) != 0)
                return false;
        return true;
    }
    case HCC_T_FLOAT:
        return *(const double *)fa == *(const double *)fb;
    default: /* INT, BOOL, LEVEL: plain values */
        return memcmp(fa, fb, size_of_type[k->type]) == 0;
    }
}

/* A deep copy of |src|'s field of |k| into |v|: 0 or NOMEM. */
static int value_copy(const hcc_config_t *src, const hcc_key_t *k, value_t *v)
{
    const void *f = const_field_of(src, k);

    if (k->type == HCC_T_STRING)
        return parse_string(k, *(char *const *)f, v);
    if (k->type != HCC_T_LIST) {
        memcpy(v, f, size_of_type[k->type]);
        return 0;
    }
    const hcc_list_t *from = f;

    v->list.count = 0;
    v->list.items = calloc(from->count + 1, sizeof(char *));
    for (size_t i = 0; v->list.items != NULL && i < from->count; i++) {
        if ((v->list.items[i] = strdup(from->items[i])) == NULL) {
            list_free(&v->list);
            return NOMEM;
        }
        v->list.count++;
    }
    return v->list.items != NULL ? 0 : NOMEM;
}

int hcc_key_copy(hcc_config_t *dst, const hcc_config_t *src, enum hcc_key_id id)
{
    const hcc_key_t *k = &hcc_keys[id];
    value_t v;

    if (value_copy(src, k, &v) != 0)
        return -1;
    field_release(dst, k);
    memcpy(field_of(dst, k), &v, size_of_type[k->type]);
    dst->origin[id] = src->origin[id];
    return 0;
}

int hcc_defaults(hcc_config_t *cfg, char *err, size_t errlen)
{
    char reason[256];

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < HCC_NKEYS; i++) {
        if (hcc_set(cfg, hcc_keys[i].name, hcc_keys[i].def, reason, sizeof(reason)) != 0) {
            snprintf(err, errlen, "keys.def: %s: %s", hcc_keys[i].name, reason);
            return -1;
        }
        cfg->origin[i].from = HCC_FROM_DEFAULT;
    }
    return hcc_finish(cfg, err, errlen);
}

void hcc_free(hcc_config_t *cfg)
{
    for (size_t i = 0; i < HCC_NKEYS; i++)
        field_release(cfg, &hcc_keys[i]);
    free(cfg->listen_addrs);
    free(cfg->credentials);
    free(cfg->https_listen_addrs);
    free(cfg->allow_rules);
    hcc_routes_free(cfg->routes, cfg->nroutes);
    free(cfg->coap_listen_addrs);
    free(cfg->coap_listen_transports);
    free(cfg->coap_psks);
    free(cfg->origin_rules);
    free(cfg->no_proxy_rules);
    hcc_routes_free(cfg->coap_routes, cfg->ncoap_routes);
    free(cfg->source);
    list_free(&cfg->warnings);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- value -> text ---- */

/* A libconfig string literal: its scanner knows \" \\ \n \r \t \f and \xHH. */
static void print_string(FILE *out, const char *s)
{
    static const char plain[] = "\"\\\n\r\t\f", escaped[] = "\"\\nrtf";

    fputc('"', out);
    for (; *s != '\0'; s++) {
        const char *e = strchr(plain, *s);
        unsigned char c = (unsigned char)*s;

        if (e != NULL)
            fprintf(out, "\\%c", escaped[e - plain]);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* The shortest text that reads back as the same double, with a '.' so that libconfig keeps it
 * a float (it reads "2" as an integer). */
static void print_float(FILE *out, double d)
{
    char buf[40];

    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    fprintf(out, "%s%s", buf, strpbrk(buf, ".eEin") != NULL ? "" : ".0");
}

static void print_value(const hcc_config_t *cfg, const hcc_key_t *key, FILE *out)
{
    const void *f = const_field_of(cfg, key);

    switch (key->type) {
    case HCC_T_STRING:
        print_string(out, *(char *const *)f);
        break;
    case HCC_T_LIST: {
        const hcc_list_t *list = f;

        fputs("[ ", out);
        for (size_t i = 0; i < list->count; i++) {
            print_string(out, list->items[i]);
            fputs(i + 1 < list->count ? ", " : " ", out);
        }
        fputs("]", out);
        break;
    }
    case HCC_T_INT:
        fprintf(out, "%lld", *(const long long *)f);
        break;
    case HCC_T_FLOAT:
        print_float(out, *(const double *)f);
        break;
    case HCC_T_BOOL:
        fputs(*(const bool *)f ? "true" : "false", out);
        break;
    case HCC_T_LEVEL:
        print_string(out, level_names[*(const hcc_level_t *)f]);
        break;
    }
}

/* The length of "http" in "http.listen": keys are "group.name", one level deep. */
static size_t group_len(const hcc_key_t *key)
{
    const char *dot = strchr(key->name, '.');

    assert(dot != NULL);
    return (size_t)(dot - key->name);
}

static bool same_group(const hcc_key_t *a, const hcc_key_t *b)
{
    return group_len(a) == group_len(b) && strncmp(a->name, b->name, group_len(a)) == 0;
}

/* Whether a key before |i| opened |i|'s group already: libconfig refuses a group twice, so each
 * is printed once, whole, where its first key stands. */
static bool group_printed(size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (same_group(&hcc_keys[j], &hcc_keys[i]))
            return true;
    return false;
}

void hcc_key_source(const hcc_config_t *cfg, enum hcc_key_id id, char *buf, size_t len)
{
    const struct hcc_origin *o = &cfg->origin[id];
    const char *file = cfg->source != NULL ? cfg->source : "the file";

    switch (o->from) {
    case HCC_FROM_DEFAULT:
        snprintf(buf, len, "default");
        break;
    case HCC_FROM_CALLER:
        snprintf(buf, len, "set by the program");
        break;
    case HCC_FROM_FILE:
        if (o->line > 0)
            snprintf(buf, len, "%s:%u", file, o->line);
        else
            snprintf(buf, len, "%s (an included file)", file);
        break;
    case HCC_FROM_ENV:
        hcc_key_env(&hcc_keys[id], buf, len);
        break;
    case HCC_FROM_FLAG:
        hcc_key_flag(&hcc_keys[id], buf, len);
        break;
    }
}

static void print_config(const hcc_config_t *cfg, FILE *out, bool sources)
{
    fprintf(out, "# hcproxy: the effective configuration (file: %s)\n",
            cfg->source != NULL ? cfg->source : "none");
    for (size_t i = 0; i < HCC_NKEYS; i++) {
        size_t glen = group_len(&hcc_keys[i]);

        if (group_printed(i))
            continue;
        fprintf(out, "%.*s: {\n", (int)glen, hcc_keys[i].name);
        for (size_t j = i; j < HCC_NKEYS; j++) {
            if (!same_group(&hcc_keys[i], &hcc_keys[j]))
                continue;
            fprintf(out, "    %s = ", hcc_keys[j].name + glen + 1);
            if (j == HCC_K_http_bearer_tokens) /* a secret: how many, never what */
                fprintf(out, "[ ] /* %zu set, not shown */", cfg->http_bearer_tokens.count);
            else
                print_value(cfg, &hcc_keys[j], out);
            fputs(";", out);
            if (sources) {
                char where[600];

                hcc_key_source(cfg, (enum hcc_key_id)j, where, sizeof where);
                fprintf(out, " # %s", where);
            }
            fputs("\n", out);
        }
        fputs("};\n", out);
    }
}

void hcc_print(const hcc_config_t *cfg, FILE *out)
{
    print_config(cfg, out, false);
}

void hcc_print_sources(const hcc_config_t *cfg, FILE *out)
{
    print_config(cfg, out, true);
}

static const char *const metavar_of_type[] = {
    [HCC_T_STRING] = "TEXT", [HCC_T_LIST] = "LIST", [HCC_T_INT] = "N",
    [HCC_T_FLOAT] = "X",     [HCC_T_BOOL] = "BOOL", [HCC_T_LEVEL] = "LEVEL",
};
_Static_assert(HCC_COUNTOF(metavar_of_type) == HCC_NTYPES, "a metavariable for every type");

/* Three lines a key: flag and variable, what it sets, its default (and range). */
static void print_key_help(FILE *out, const hcc_key_t *key)
{
    char flag[64], env[64];
    int width;

    hcc_key_flag(key, flag, sizeof(flag));
    hcc_key_env(key, env, sizeof(env));
    width = 36 - (int)strlen(flag);
    fprintf(out, "  %s %-*s %s\n      %s\n      default: %s", flag, width > 0 ? width : 1,
            metavar_of_type[key->type], env, key->help, key->def);
    if (key->type == HCC_T_INT)
        fprintf(out, "; range: %lld to %lld", (long long)key->min, (long long)key->max);
    if (key->type == HCC_T_FLOAT)
        fprintf(out, "; range: %g to %g", key->min, key->max);
    fputc('\n', out);
}

void hcc_print_help(FILE *out, const char *argv0)
{
    const char *name = argv0 != NULL && strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;

    fprintf(out,
            "Usage: %s [--config FILE] [--check-config] [--health-check] [--help] [--version]\n"
            "       [--KEY VALUE]...\n"
            "\n"
            "A proxy from HTTP clients to CoAP servers (RFC 8075), and from CoAP clients to HTTP\n"
            "origins (RFC 7252 s10.1). Each key is set by the defaults, then the file, then its\n"
            "HCPROXY_* environment variable, then its flag; each overrides the one before.\n"
            "--KEY=VALUE works too; a LIST is comma-separated.\n"
            "\n"
            "  --config FILE                        read FILE (libconfig syntax); HCPROXY_CONFIG\n"
            "  --check-config                       check the configuration, print it, exit\n"
            "  --health-check                       GET /healthz from the running hcproxy's first\n"
            "                                       http.listen address (its own configuration,\n"
            "                                       read from /proc; with other flags, this one's);\n"
            "                                       exit 0 when it answers 200, else 1\n"
            "  -h, --help                           print this help and exit\n"
            "  -V, --version                        print the version and exit\n"
            "\n"
            "Keys: flag, environment variable, then what it sets:\n",
            name != NULL ? name : "hcproxy");
    for (size_t i = 0; i < HCC_NKEYS; i++)
        print_key_help(out, &hcc_keys[i]);
}

int hcc__warn(hcc_config_t *cfg, const char *fmt, ...)
{
    hcc_list_t *w = &cfg->warnings;
    char **items = realloc(w->items, (w->count + 1) * sizeof *items);
    va_list ap;
    int rc;

    if (items == NULL)
        return -1;
    w->items = items;
    va_start(ap, fmt);
    rc = vasprintf(&w->items[w->count], fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    w->count++;
    return 0;
}

int hcc__fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
