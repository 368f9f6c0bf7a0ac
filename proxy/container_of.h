/* container_of: the object that holds a member, found from a pointer to that member (like the
 * Linux kernel's container_of): how the owner of a queue link (queue.h) or of a libuv handle
 * embedded in it gets back to itself. */
#ifndef HCP_CONTAINER_OF_H
#define HCP_CONTAINER_OF_H

#include <stddef.h>

/* The object that holds |ptr|, its |member|. */
#define hcp_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
