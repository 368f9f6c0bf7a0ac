/* Private to config/: helpers its files share. Not part of the public hcc.h. */
#ifndef HCC_INTERNAL_H
#define HCC_INTERNAL_H

#include <stddef.h>

#include "hcc.h"

#define HCC_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* Formats one error line into |err| and returns -1, so a check can end with `return fail(...)`. */
__attribute__((format(printf, 3, 4))) int hcc__fail(char *err, size_t errlen, const char *fmt,
                                                    ...);

/* Appends one line to cfg->warnings; 0, or -1 when out of memory. */
__attribute__((format(printf, 2, 3))) int hcc__warn(hcc_config_t *cfg, const char *fmt, ...);

/* The schemes one key's rules or routes may name, in lower case, and how an error lists them. */
typedef struct hcc__schemes {
    const char *const *names; /* "coap", "coaps", ... */
    size_t count;
    const char *list; /* "coap, coaps, coap+tcp, coaps+tcp or *" */
} hcc__schemes_t;

/* Rules (rules.c): upstream.allow takes the CoAP schemes, origin.allow the HTTP ones; "*" is in
 * both. hcc_rule_parse() is hcc__rule_parse() with the CoAP ones. */
extern const hcc__schemes_t hcc__coap_rule_schemes, hcc__http_rule_schemes;
/* Whether the one rule |r| matches the destination (arguments as for hcc_allows()). */
bool hcc__rule_matches(const hcc_rule_t *r, const char *scheme, const char *host, int family,
                       const void *addr, uint16_t port);
int hcc__rule_parse(const char *text, const hcc__schemes_t *schemes, hcc_rule_t *rule, char *err,
                    size_t errlen);

/* finish.c: whether |path| names a readable file ("" names none and passes). */
int hcc__check_readable(const char *path, char *reason, size_t len);
/* finish.c: whether the variable |name| that holds a key is set ("" names none and passes). */
int hcc__check_key_env(const char *name, char *reason, size_t len);

/* The egress proxy (egress.c): checks origin.http_proxy, derives no_proxy_rules. */
int hcc__check_http_proxy(hcc_config_t *cfg, char *reason, size_t len);
int hcc__derive_no_proxy(hcc_config_t *cfg, char *reason, size_t len);
int hcc__derive_http_proxy_auth(hcc_config_t *cfg, char *reason, size_t len);

/* Listeners the network reaches without credentials, and rules that reach loopback
 * (exposure.c): refused unless coap.unauthenticated_loopback / http.unauthenticated_loopback. */
int hcc__check_coap_exposure(hcc_config_t *cfg, char *reason, size_t len);
int hcc__check_http_exposure(hcc_config_t *cfg, char *reason, size_t len);
int hcc__check_https_exposure(hcc_config_t *cfg, char *reason, size_t len);

/* Routes (routes.c): http.routes lead to CoAP base URIs, coap.routes to HTTP base URLs. */
typedef struct hcc__route_kind {
    hcc__schemes_t schemes; /* of the base; list: "a coap, coaps, coap+tcp or coaps+tcp URI" */
    const char *form;       /* "PATH-PREFIX=COAP-BASE-URI" */
} hcc__route_kind_t;

extern const hcc__route_kind_t hcc__coap_base_routes, hcc__http_base_routes;
int hcc__route_parse(const char *text, const hcc__route_kind_t *kind, hcc_route_t *route,
                     char *err, size_t errlen);

#endif
