/* reload.c: SIGHUP. */
#ifndef HCP_RELOAD_H
#define HCP_RELOAD_H

#include "hcc.h"

typedef struct hcp_proxy hcp_proxy_t;

/* Reads the configuration again from the file, |envp| and |argv| (those given at start) and
 * applies what can change without dropping a connection: proxy->cfg, which is |cfg|, takes the
 * new values. 0, or -1 with the running configuration kept; either way the outcome is logged. */
int hcp_reload(hcp_proxy_t *proxy, hcc_config_t *cfg, int argc, char **argv, char **envp);

#endif
