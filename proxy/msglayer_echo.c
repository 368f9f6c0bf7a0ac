/* What the message layer's server side (msglayer.h) may send to a peer that has not shown it is
 * really there (RFC 7252 s11.3: a spoofed source must not make hcproxy an amplifier), and how a
 * peer shows it: by acknowledging a separate response of ours, or by repeating a request with
 * the Echo value it was given (RFC 9175 s2.4). */
#include <string.h>

#include "coap_peer.h"
#include "hcm.h"
#include "msglayer.h"
#include "msglayer_int.h"

/* RFC 9175 s2.3: an Echo value is fresh for as long as a request may take to come back with it
 * (MAX_LATENCY, RFC 7252 s4.8.2), and a verified address stays verified for an hour: long enough
 * for a device's reporting cycle, short enough that an address that moved is checked again. */
#define ECHO_FRESH_NS (100 * NS_PER_S)
#define VERIFIED_NS (3600 * NS_PER_S)

/* A direct-mapped cache: a peer that collides with another loses its slot. */
static peer_slot_t *peer_slot(const hcp_msglayer_t *ml, const hcp_coap_peer_t *peer)
{
    static const uint8_t no_mid[2];

    return &ml->peers[hcp_coap_peer_hash(ml->seed, peer, no_mid, sizeof no_mid) & (ml->npeers - 1)];
}

bool hcp_msglayer_echo_verified(const hcp_msglayer_t *ml, const hcp_coap_peer_t *peer, uint64_t now)
{
    const peer_slot_t *slot = peer_slot(ml, peer);

    return ml->cfg.amplification == 0 ||
           (hcp_coap_peer_equal(&slot->peer, peer) && slot->verified_until_ns > now);
}

void hcp_msglayer_echo_verify(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer, uint64_t now)
{
    peer_slot_t *slot = peer_slot(ml, peer);

    if (!hcp_coap_peer_equal(&slot->peer, peer))
        *slot = (peer_slot_t){ .peer = *peer };
    slot->verified_until_ns = now + VERIFIED_NS;
}

/* RFC 9175 s2.4: a request carrying the Echo value its peer was given verifies the peer. */
void hcp_msglayer_echo_check(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                             const hcm_coap_msg_t *msg, uint64_t now)
{
    const hcm_option_t *echo = hcm_coap_msg_find(msg, 252);
    peer_slot_t *slot = peer_slot(ml, peer);

    if (echo == NULL || !slot->has_echo || !hcp_coap_peer_equal(&slot->peer, peer) ||
        slot->echo_until_ns <= now || echo->value.len != ECHO_LEN ||
        memcmp(echo->value.p, slot->echo, ECHO_LEN) != 0)
        return;
    slot->has_echo = false; /* one use */
    hcp_msglayer_echo_verify(ml, peer, now);
}

size_t hcp_msglayer_echo_challenge(hcp_msglayer_t *ml, const hcp_msglayer_exchange_t *x,
                                   uint8_t *echo, uint64_t now_ns)
{
    peer_slot_t *slot = peer_slot(ml, &x->peer);

    if (!hcp_coap_peer_equal(&slot->peer, &x->peer))
        *slot = (peer_slot_t){ .peer = x->peer };
    ml->cfg.random(ml->cfg.ctx, slot->echo, ECHO_LEN);
    slot->has_echo = true;
    slot->echo_until_ns = now_ns + ECHO_FRESH_NS;
    memcpy(echo, slot->echo, ECHO_LEN);
    return ECHO_LEN;
}

/* What an exchange with an unverified peer may still send: |amplification| times what it
 * received, less what it sent (RFC 7252 s11.3). */
size_t hcp_msglayer_echo_budget(const hcp_msglayer_t *ml, const hcp_msglayer_exchange_t *x)
{
    size_t allowed;

    if (x->is_verified || hcp_msglayer_echo_verified(ml, &x->peer, ml->now_ns))
        return SIZE_MAX;
    allowed = (size_t)ml->cfg.amplification * x->received;
    return allowed > x->sent ? allowed - x->sent : 0;
}

