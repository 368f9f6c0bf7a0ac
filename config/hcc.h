/* hcc: hcproxy's configuration.
 *
 * One value, filled once at start from the embedded defaults, then a file (libconfig syntax),
 * then HCPROXY_* environment variables, then command-line flags, each overriding the one before.
 * Every key is in keys.def. Afterwards the value is only read: code takes const hcc_config_t *. */
#ifndef HCC_H
#define HCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

typedef struct hcc_list {
    char **items;
    size_t count;
} hcc_list_t;

typedef enum hcc_level { HCC_LOG_ERROR, HCC_LOG_WARN, HCC_LOG_INFO, HCC_LOG_DEBUG } hcc_level_t;

/* One allowed destination, written scheme://host-or-CIDR[:port][/path]: coap://127.0.0.0/8,
 * coap://[::1]:5683, a name such as coap://sensor.example, or a leading "*." on the name for its
 * subdomains; "*" as the scheme matches every scheme of its list. A CIDR matches resolved
 * addresses; a name matches the target's host. A path is a prefix of whole segments:
 * coap://10.0.0.0/8/sensors allows /sensors and /sensors/t, not /sensorsx; a number as the first
 * segment after an IPv4 address needs the prefix length before it (coap://10.0.0.1/32/7).
 * upstream.allow takes the CoAP schemes, origin.allow http and https (https://api.example/v1,
 * http://10.0.0.0/8:8000). */
typedef struct hcc_rule {
    char scheme[12];      /* "coap", "coaps", "coap+tcp", "coaps+tcp", "http", "https" or "*" */
    bool is_cidr;
    int family;           /* AF_INET or AF_INET6 when is_cidr */
    uint8_t addr[16];     /* network byte order, host bits zero */
    unsigned prefix_len;
    char host[256];       /* lower-case name when !is_cidr; a leading "*." matches subdomains */
    uint16_t port;        /* 0 matches every port */
    char path[256];       /* "sensors/t": the first segments of the path; "" matches every path */
} hcc_rule_t;

/* One entry of upstream.credentials (credentials.c): how to secure the exchanges with the
 * coaps and coaps+tcp servers |match| names. Keys stay in their files or variables: this holds
 * names, never key bytes. */
typedef enum hcc_cred_kind { HCC_CRED_PSK, HCC_CRED_PKI, HCC_CRED_RPK } hcc_cred_kind_t;
typedef struct hcc_credential {
    hcc_rule_t match;
    hcc_cred_kind_t kind;
    char identity[128];  /* psk: the PSK identity sent to the server */
    char key_env[64];    /* psk: a variable whose value is the key */
    char key_file[512];  /* psk: a file whose bytes are the key; pki, rpk: hcproxy's key (PEM) */
    char peer_key_file[512]; /* rpk: the server's public key (PEM), pinned */
    char ca_file[512];   /* pki: CAs (PEM) the server's certificate must chain to */
    char cert_file[512]; /* pki: the client's certificate (PEM), or none */
    bool verify;         /* pki: check the server's certificate and name; rpk: its key
                          * (default true) */
} hcc_credential_t;

/* A CoAP listener's transport (coap.listen): coap://, coaps:// (DTLS), coap+tcp://,
 * coaps+tcp:// (TLS, RFC 8323). */
typedef enum hcc_transport { HCC_UDP, HCC_DTLS, HCC_TCP, HCC_TLS } hcc_transport_t;

/* One coap.psk entry: a client identity and where its key is. */
typedef struct hcc_server_psk {
    char identity[128];
    char key_env[64];
    char key_file[512];
} hcc_server_psk_t;

/* A named route (http.routes, coap.routes): requests under |prefix| go to |base| with the rest
 * of the path and the query appended, so that clients need not know the servers' addresses. */
typedef struct hcc_route {
    char *prefix; /* "/sensors/" */
    char *base;   /* "coap://[fd00::1]/s/"; for coap.routes "http://127.0.0.1:8000/api/" */
} hcc_route_t;

#define HCC_TYPE_STRING char *
#define HCC_TYPE_LIST hcc_list_t
#define HCC_TYPE_INT long long
#define HCC_TYPE_FLOAT double
#define HCC_TYPE_BOOL bool
#define HCC_TYPE_LEVEL hcc_level_t

/* The key table: one row per line of keys.def, in that order, for code that walks every key
 * (the file loader, --help, the docs and the tests). */
typedef enum hcc_type {
    HCC_T_STRING, HCC_T_LIST, HCC_T_INT, HCC_T_FLOAT, HCC_T_BOOL, HCC_T_LEVEL
} hcc_type_t;
#define HCC_NTYPES (HCC_T_LEVEL + 1) /* rows of a table indexed by type; not an enum value, so
                                      * that switches over the types stay complete */

enum hcc_key_id { /* HCC_K_http_listen, ...: a key's row in hcc_keys[] */
#define HCC_KEY(field, key, type, def, min, max, help) HCC_K_##field,
#include "keys.def"
#undef HCC_KEY
    HCC_NKEYS
};

typedef struct hcc_key {
    const char *name; /* file key: "http.listen" (flag --http-listen, env HCPROXY_HTTP_LISTEN) */
    hcc_type_t type;
    size_t offset;    /* of the key's field in hcc_config_t */
    const char *def;  /* the default, in the text form */
    double min, max;  /* bounds for INT and FLOAT */
    const char *help;
} hcc_key_t;

extern const hcc_key_t hcc_keys[HCC_NKEYS];

/* The row of |name| ("http.listen"), or NULL. */
const hcc_key_t *hcc_key_find(const char *name);
/* Writes the rule every value of |key| obeys into |buf|: "must be an integer from 1 to 10". */
void hcc_key_expect(const hcc_key_t *key, char *buf, size_t len);
/* Write |key|'s flag ("--http-listen") or environment variable ("HCPROXY_HTTP_LISTEN"). */
void hcc_key_flag(const hcc_key_t *key, char *buf, size_t len);
void hcc_key_env(const hcc_key_t *key, char *buf, size_t len);

/* Where a key's value came from, so that an error found later still names the place. */
typedef enum hcc_from {
    HCC_FROM_DEFAULT, HCC_FROM_CALLER, HCC_FROM_FILE, HCC_FROM_ENV, HCC_FROM_FLAG
} hcc_from_t;

typedef struct hcc_config {
#define HCC_KEY(field, key, type, def, min, max, help) HCC_TYPE_##type field;
#include "keys.def"
#undef HCC_KEY
    /* derived and validated from the keys above */
    struct sockaddr_storage *listen_addrs;
    size_t nlisten_addrs;
    struct sockaddr_storage *https_listen_addrs;
    size_t nhttps_listen_addrs;
    hcc_rule_t *allow_rules;
    size_t nallow_rules;
    hcc_route_t *routes;
    size_t nroutes;
    /* the reverse direction: CoAP clients to HTTP origins */
    struct sockaddr_storage *coap_listen_addrs;
    hcc_transport_t *coap_listen_transports; /* one per address */
    size_t ncoap_listen_addrs;
    hcc_server_psk_t *coap_psks;
    size_t ncoap_psks;
    hcc_rule_t *origin_rules;
    size_t norigin_rules;
    hcc_route_t *coap_routes; /* prefix "/lwm2m/", base "http://127.0.0.1:8000/api/" */
    size_t ncoap_routes;
    hcc_server_psk_t http_proxy_auth; /* origin.http_proxy_auth: the user (as identity) and
                                       * where the password is; all empty for none */
    hcc_rule_t *no_proxy_rules; /* origin.no_proxy, each with the scheme "*" */
    size_t nno_proxy_rules;
    hcc_credential_t *credentials; /* upstream.credentials, in order */
    size_t ncredentials;
    char *source; /* the file read, or NULL for the embedded defaults */
    hcc_list_t warnings; /* what the operator should hear of, though the configuration holds:
                          * "HCPROXY_X overrides key, set at file:line" */
    /* private: where each key was last set (source, and its line there), for hcc_finish() */
    struct hcc_origin { hcc_from_t from; unsigned line; } origin[HCC_NKEYS];
} hcc_config_t;

typedef enum hcc_action { HCC_RUN, HCC_HELP, HCC_VERSION, HCC_CHECK, HCC_HEALTH } hcc_action_t;

/* Parses one upstream.credentials entry, "DESTINATION psk|pki name=value ...". 0, or -1 with
 * the reason in |err| (never a key: the entry holds none). */
int hcc_credential_parse(const char *text, hcc_credential_t *c, char *err, size_t errlen);
/* Parses one coap.psk entry, "IDENTITY key_env=VARIABLE" or "IDENTITY key_file=PATH". */
int hcc_server_psk_parse(const char *text, hcc_server_psk_t *psk, char *err, size_t errlen);
/* The first upstream.credentials entry for the destination (arguments as for hcc_allows()),
 * or NULL. */
const hcc_credential_t *hcc_credential_find(const hcc_config_t *cfg, const char *scheme,
                                            const char *host, int family, const void *addr,
                                            uint16_t port);

/* Fills |cfg| from defaults, the file named by --config or HCPROXY_CONFIG, the environment
 * |envp| and the flags |argv|. 0, or -1 with one line "where: key: what is wrong" in |err|:
 * "file:line: key: ...", "HCPROXY_X: key: ...", "--flag: ...". |cfg| must be hcc_free()d
 * either way. */
int hcc_configure(hcc_config_t *cfg, int argc, char **argv, char **envp, hcc_action_t *action,
                  char *err, size_t errlen);

/* The defaults alone (used by hcc_configure() and by tests), derived fields included: |cfg| is
 * overwritten, not freed first. 0 or -1 with |err|; hcc_free() |cfg| either way. */
int hcc_defaults(hcc_config_t *cfg, char *err, size_t errlen);
/* Overrides |cfg| from a libconfig file. 0 or -1 with "path:line: key: reason" in |err|. */
int hcc_load_file(hcc_config_t *cfg, const char *path, char *err, size_t errlen);
/* Sets one key from its text form, as in the environment or a flag (LIST: comma-separated).
 * 0, or -1 with the reason ("unknown key", "must be ...") and |cfg| unchanged. Derived fields
 * are stale until hcc_finish(). */
int hcc_set(hcc_config_t *cfg, const char *key, const char *text, char *err, size_t errlen);
/* Re-derives the fields after the keys (listen_addrs, allow_rules, routes, coap_listen_addrs,
 * origin_rules, coap_routes) and checks the rules a key's type cannot say (an address, a path,
 * a readable file, a power of two). 0, or -1 with "where: key: reason", where being the place
 * the key was last set ("file:line", "HCPROXY_X"; a flag gives "--flag: reason"). */
int hcc_finish(hcc_config_t *cfg, char *err, size_t errlen);
/* Whether key |id| has the same value in |a| and |b| (a reload's old and new configuration). */
bool hcc_key_equal(const hcc_config_t *a, const hcc_config_t *b, enum hcc_key_id id);
/* Gives |dst|'s key |id| the value |src| has, and its origin. 0, or -1 when out of memory.
 * Derived fields are stale until hcc_finish(). */
int hcc_key_copy(hcc_config_t *dst, const hcc_config_t *src, enum hcc_key_id id);
/* Frees what |cfg| owns and zeroes it, so a second call does nothing. */
void hcc_free(hcc_config_t *cfg);

/* Parses "scheme://host-or-CIDR[:port]" with a CoAP scheme (upstream.allow). 0 or -1 with the
 * reason in |err|. */
int hcc_rule_parse(const char *text, hcc_rule_t *rule, char *err, size_t errlen);

/* Whether |addr| (4 or 16 bytes by |family|; IPv4-mapped IPv6 counts as IPv4) is a multicast
 * group or the IPv4 broadcast address: never a destination (RFC 8075 s10.4), whatever the rules
 * say. */
bool hcc_is_multicast(int family, const void *addr);
/* Whether an HTTP origin may be reached (origin.allow): http or https only; arguments as for
 * hcc_allows(). */
bool hcc_origin_allows(const hcc_config_t *cfg, const char *scheme, const char *host, int family,
                       const void *addr, uint16_t port, const char *path);
/* Whether the reverse direction reaches the origin |host| (lower case, IPv6 without brackets) on
 * |port| through origin.http_proxy: there is one, and no origin.no_proxy entry names the origin
 * (a CIDR entry names only an origin written as an IP address; no name is resolved). */
bool hcc_origin_proxied(const hcc_config_t *cfg, const char *scheme, const char *host,
                        uint16_t port);
/* The reverse route (coap.routes) whose prefix begins |path| ("/lwm2m/rd"; the longest, when
 * several do), or NULL. */
const hcc_route_t *hcc_coap_route_find(const hcc_config_t *cfg, const char *path);

/* Whether the destination may be reached: a CoAP scheme only (a rule's "*" is any of them).
 * |host| is the target's host (lower case, IPv6
 * without brackets); |addr| the resolved address in network byte order (4 or 16 bytes by
 * |family|), or NULL before resolution: then name rules match, and CIDR rules only a host that
 * is an IP literal. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches as IPv4. |path| is the
 * target's path as written in its URI, percent-encoding and all ("/a/b%20c"; "" or NULL for
 * none): compared segment by segment once decoded, so "%2F" stays inside its segment. A path
 * with a "." or ".." segment matches no rule that has a path. */
bool hcc_allows(const hcc_config_t *cfg, const char *scheme, const char *host, int family,
                const void *addr, uint16_t port, const char *path);

/* Parses "PREFIX=COAP-BASE-URI" (http.routes). 0, or -1 with the reason in |err|; |route| owns
 * two strings. */
int hcc_route_parse(const char *text, hcc_route_t *route, char *err, size_t errlen);
/* The route whose prefix begins |path| (the longest, when several do), or NULL. */
const hcc_route_t *hcc_route_find(const hcc_config_t *cfg, const char *path);
void hcc_routes_free(hcc_route_t *routes, size_t count);

/* Writes the usage line, the flags that are not keys, then every key (flag, variable, help,
 * default, range) to |out|; the program is named by |argv0|'s last path component. */
void hcc_print_help(FILE *out, const char *argv0);
/* Writes the effective configuration in the file's syntax. */
void hcc_print(const hcc_config_t *cfg, FILE *out);
/* The same, each key followed by a comment saying where its value came from: "# default",
 * "# file.conf:12", "# HCPROXY_UPSTREAM_ALLOW", "# --upstream-allow" (--check-config). */
void hcc_print_sources(const hcc_config_t *cfg, FILE *out);
/* Writes where |id|'s value came from, as hcc_print_sources() does, into |buf|. */
void hcc_key_source(const hcc_config_t *cfg, enum hcc_key_id id, char *buf, size_t len);

#endif
