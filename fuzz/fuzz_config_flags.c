/* Flags and environment variables (config/load.c, text.c and what hcc_finish() checks): each
 * line of the input is one argument, and lines starting "HCPROXY_" are environment variables
 * instead. --config and HCPROXY_CONFIG are skipped: they would read this machine's files. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "hcc.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char store[16384];
    static char argv0[] = "hcproxy";
    char *argv[MAX_ARGS + 1] = { argv0 }, *envp[MAX_ARGS + 1] = { NULL };
    int argc = 1, envc = 0;
    size_t used = 0;
    fuzz_input_t in = { data, size };
    hcc_config_t cfg;
    hcc_action_t action;
    char err[512];

    while (in.left > 0 && argc < MAX_ARGS && envc < MAX_ARGS && used + 2 < sizeof store) {
        char *line = fuzz_line(&in, store + used, sizeof store - used);

        used += strlen(line) + 1;
        if (strcasestr(line, "config") != NULL && strcasestr(line, "check") == NULL)
            return 0;
        if (strncmp(line, "HCPROXY_", 8) == 0)
            envp[envc++] = line;
        else
            argv[argc++] = line;
    }
    hcc_configure(&cfg, argc, argv, envp, &action, err, sizeof err);
    hcc_free(&cfg);
    return 0;
}
