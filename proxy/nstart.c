/* nstart: see nstart.h. */
#include "container_of.h"
#include "nstart.h"
#include "queue.h"

void hcp_nstart_init(hcp_nstart_t *ns, unsigned limit)
{
    ns->limit = limit;
    ns->outstanding = 0;
    ns->epoch = 1;
    hcp_queue_init(&ns->waiting);
}

void hcp_nstart_wait(hcp_nstart_t *ns, hcp_nstart_req_t *req, bool first)
{
    if (first)
        hcp_queue_push_front(&ns->waiting, &req->waiting);
    else
        hcp_queue_push(&ns->waiting, &req->waiting);
}

hcp_nstart_req_t *hcp_nstart_next(hcp_nstart_t *ns)
{
    hcp_queue_link_t *link;

    if (ns->outstanding >= ns->limit || (link = hcp_queue_pop(&ns->waiting)) == NULL)
        return NULL;
    return hcp_container_of(link, hcp_nstart_req_t, waiting);
}

void hcp_nstart_sent(hcp_nstart_t *ns, hcp_nstart_req_t *req)
{
    req->epoch = ns->epoch;
    ns->outstanding++;
}

void hcp_nstart_end(hcp_nstart_t *ns, hcp_nstart_req_t *req, hcp_nstart_end_t end)
{
    if (end == HCP_NSTART_CANCELLED && hcp_queue_link_is_queued(&req->waiting))
        hcp_queue_remove(&ns->waiting, &req->waiting);
    /* One counted before the last quiet moment counts no more already. */
    if (req->epoch != 0 && req->epoch == ns->epoch && ns->outstanding > 0)
        ns->outstanding--;
    req->epoch = 0;
}

void hcp_nstart_quiet(hcp_nstart_t *ns)
{
    if (++ns->epoch == 0)
        ns->epoch = 1;
    ns->outstanding = 0;
}

bool hcp_nstart_is_waiting(const hcp_nstart_req_t *req)
{
    return hcp_queue_link_is_queued(&req->waiting);
}
