/* upstream.credentials as loaded for the secure transports to CoAP servers (coaps, coaps+tcp):
 * every entry's key material, read at start and at each reload, and kept by reference for as
 * long as a session made with it lives (upstream.c). */
#ifndef HCP_UPSTREAM_CREDS_H
#define HCP_UPSTREAM_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>

#include "hcc.h"
#include "secrets.h"

/* The bytes behind one upstream.credentials entry, read at start and at a reload (secrets.c). */
typedef struct hcp_upstream_creds_keys {
    hcp_secrets_value_t psk, ca, cert, key;
    gnutls_datum_t peer_key; /* rpk: the server's SubjectPublicKeyInfo (DER), pinned */
} hcp_upstream_creds_keys_t;

/* upstream.credentials as read at start or at one reload: the entries (copied, since a reload
 * frees the configuration they came from) and their keys. libcoap keeps pointers to the key
 * bytes for the life of a session (a DTLS session may handshake again), so each destination
 * holds a reference, and a reload's new set serves new destinations while the old one lives on
 * in those that were made with it until they go idle. */
typedef struct hcp_upstream_creds_set {
    unsigned refs;
    size_t count;
    hcc_credential_t *creds;
    hcp_upstream_creds_keys_t keys[];
} hcp_upstream_creds_set_t;

/* Reads the keys of every entry of |cfg|'s upstream.credentials into a new set (one reference),
 * or fails, naming the entry's file or variable in the log. 0 or a UV_E* code. */
int hcp_upstream_creds_load(const hcc_config_t *cfg, hcp_upstream_creds_set_t **out);
/* Drops one reference to |set| (NULL is none); the last frees it. */
void hcp_upstream_creds_release(hcp_upstream_creds_set_t *set);
/* Whether two sets say the same thing, entries and key bytes: then sessions need not change. */
bool hcp_upstream_creds_same(const hcp_upstream_creds_set_t *a, const hcp_upstream_creds_set_t *b);

#endif
