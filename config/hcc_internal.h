/* Private to config/: helpers its files share. Not part of the public hcc.h. */
#ifndef HCC_INTERNAL_H
#define HCC_INTERNAL_H

#include <stddef.h>

#define HCC_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* Formats one error line into |err| and returns -1, so a check can end with `return fail(...)`. */
__attribute__((format(printf, 3, 4))) int hcc__fail(char *err, size_t errlen, const char *fmt,
                                                    ...);

#endif
