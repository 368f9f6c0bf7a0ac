/* The OSCORE test peer's subcommands and what they share (tests only). */
#ifndef OSCORE_PEER_H
#define OSCORE_PEER_H

#include <stdio.h>

#include <sys/socket.h>

#include <coap3/coap.h>

#include "oscore-crypto.h"

enum { PEER_MAX_CONTEXTS = 3, PEER_CF_NONE = -1, PEER_NO_OBSERVE = -1 };

/* Every option of every subcommand; each subcommand checks the ones it needs. */
typedef struct peer_args {
    const char *method;       /* --method: GET, POST, ... (inner) */
    const char *path;         /* --path: inner target, "/hello" or "/big?n=10" */
    const char *payload_file; /* --payload-file */
    int content_format;       /* --content-format, or PEER_CF_NONE */
    unsigned long long seq;   /* --seq: sender sequence number of the request */
    bool has_seq;
    const char *out_body;     /* --out-body: protect writes the ciphertext here */
    const char *header;       /* --header: verify reads the OSCORE header value */
    const char *body_file;    /* --body-file: verify reads the ciphertext */
    const char *out_payload;  /* --out-payload: the inner payload after verification */
    const char *address;      /* -A / --host */
    const char *port;         /* -p / --port */
    const char *contexts[PEER_MAX_CONTEXTS]; /* -c: c1 (default), c2, c3 */
    size_t ncontexts;
    bool tamper;              /* --tamper: coap-request flips the last ciphertext byte */
    bool verbose;             /* -v: libcoap debug log; server: one line per message */
    const char *vector;       /* --vector: server answers with Appendix C.7 or C.8 */
    const char *record;       /* --record: server writes each request into this file */
    /* Observe (RFC 7641 over RFC 8613 s4.1.3.5): */
    unsigned long count;          /* --count: notifications the server sends, the client awaits */
    unsigned long interval_ms;    /* --interval-ms: between two notifications of the server */
    unsigned long tamper_notification; /* --tamper-notification K: server flips a byte of K */
    unsigned long replay_notification; /* --replay-notification K: server resends K-1 after K */
    const char *record_notifications;  /* --record-notifications PREFIX: PREFIX<K>.header/.body */
    unsigned long max_age;        /* --max-age S: server puts outer Max-Age S on notifications */
    bool has_max_age;
    unsigned long long last_piv;  /* --last-piv: verify-notification's Notification Number */
    bool has_last_piv;
    bool deregister;              /* --deregister: observe cancels with Observe 1 at the end */
    bool reset;                   /* --reset: observe cancels with a Reset at the end */
    int observe;                  /* the inner Observe of the request, or PEER_NO_OBSERVE */
} peer_args_t;

/* The security context |name| (c1, c2, c3: RFC 8613 Appendix C.1-C.3) as seen by the client
 * or the server; 0, or -1 for an unknown name. */
int peer_context(const char *name, bool is_server, osc_ctx_t *ctx);

/* Reads a whole file into a malloc'ed buffer; 0 or -1 (message printed). */
int peer_read_file(const char *path, uint8_t **data, size_t *len);
int peer_write_file(const char *path, osc_bytes_t data);

/* The client's inner request (--method, --path, --payload-file, --content-format) protected
 * with the first context at --seq: *ctx, *sealed (osc_sealed_free() it) and *bind. 0, or 1
 * (message printed, naming the subcommand |cmd|). */
int peer_protect_request(const peer_args_t *args, const char *cmd, osc_ctx_t *ctx,
                         osc_sealed_t *sealed, osc_binding_t *bind);
/* Verifies a response to the client's request |seq| and prints its inner message as one line
 * "code=2.05 cf=0 payload=..."; writes the inner payload to args->out_payload if set.
 * Returns the exit status: 0, or 1 (message printed). */
int peer_finish_response(const peer_args_t *args, const osc_ctx_t *ctx, osc_bytes_t option,
                         osc_bytes_t ciphertext);
/* "2.05" from 0x45; |buf| holds 8 bytes. */
const char *peer_code_text(uint8_t code, char buf[8]);
/* Prints |p| as text when all of it is printable ASCII, else as "hex:..." (cut after 32 bytes). */
void peer_print_payload(FILE *f, osc_bytes_t p);

/* A libcoap address for HOST (IPv4 or IPv6 literal) and PORT; 0 or -1. */
int peer_address(const char *host, const char *port, coap_address_t *out);

/* The UDP transport of `server` (oscore-peer-udp.c). on_request gets each whole request (the
 * outer message of its last block and the reassembled body) and fills |answer| (views valid until
 * the handler's next call), which the transport sends; on_empty gets each ACK or RST a client
 * sends (to a confirmable notification); on_tick is called on every turn of the loop and returns
 * the milliseconds until it wants the next call, or -1. peer_udp_serve() prints "ready" and
 * returns on SIGTERM. */
typedef struct peer_udp peer_udp_t;
typedef struct peer_udp_endpoint {
    struct sockaddr_storage addr;
    socklen_t len;
} peer_udp_endpoint_t;
typedef struct peer_udp_hooks {
    void (*on_request)(void *arg, peer_udp_t *udp, const osc_coap_t *req, osc_bytes_t body,
                       osc_coap_t *answer);
    void (*on_empty)(void *arg, const osc_coap_t *m);
    int (*on_tick)(void *arg, peer_udp_t *udp);
    void *arg;
} peer_udp_hooks_t;
int peer_udp_serve(const char *host, const char *port, bool verbose, const peer_udp_hooks_t *hooks);
/* The sender of the request being handled. */
void peer_udp_client(const peer_udp_t *udp, peer_udp_endpoint_t *out);
/* Sends |m| (a message the server starts: a notification) to |to| with the next message ID of
 * the server, which it sets in |m| and returns. */
uint16_t peer_udp_send(peer_udp_t *udp, const peer_udp_endpoint_t *to, osc_coap_t *m);

int peer_vectors(void);
int peer_server(const peer_args_t *args);
int peer_coap_request(const peer_args_t *args);
int peer_observe(const peer_args_t *args);
int peer_verify_notification(const peer_args_t *args);

#endif
