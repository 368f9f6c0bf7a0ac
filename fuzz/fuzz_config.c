/* The configuration (config/load.c, text.c, rules.c, routes.c, finish.c): the input as a
 * configuration file, checked the way hcproxy checks one at start. A file that @includes
 * another is skipped: the fuzzer would only be reading this machine's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "hcc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    char path[64], err[512];
    hcc_config_t cfg;

    if (memmem(data, size, "@include", 8) != NULL)
        return 0;
    if (fd < 0 && (fd = memfd_create("hcproxy-fuzz.conf", 0)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (hcc_defaults(&cfg, err, sizeof err) != 0)
        abort();
    if (hcc_load_file(&cfg, path, err, sizeof err) == 0)
        hcc_finish(&cfg, err, sizeof err);
    hcc_free(&cfg);
    return 0;
}
