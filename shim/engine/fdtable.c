/* The fd table: a two-level array, chunks of 4096 entries allocated on
 * first use, so any fd number works (above 65,536 too) and a lookup is two
 * loads.  Chunks are never freed, which lets readers skip the lock. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include "fdtable.h"
#include "sys/real.h"

#define CHUNK_BITS HU_FD_CHUNK_BITS
#define CHUNK HU_FD_CHUNK

hu_fdent *hu_fd_chunks[HU_FD_NCHUNKS];
unsigned char hu_fd_file_flag[HU_FD_FILE_MAX];
#define chunks hu_fd_chunks
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

hu_fdent *hu_fd_make(int fd)
{
    if (fd < 0)
        return NULL;
    hu_fdent *c = chunks[fd >> CHUNK_BITS];
    if (!c) {
        c = calloc(CHUNK, sizeof *c);
        if (!c)
            return NULL;
        for (int i = 0; i < CHUNK; i++)
            c[i].epfd = -1;
        __atomic_store_n(&chunks[fd >> CHUNK_BITS], c, __ATOMIC_RELEASE);
    }
    return &c[fd & (CHUNK - 1)];
}

/* Code holding the lock is the library's own: calls it makes into wrapped
 * functions (getsockopt, close, logging, probes) must pass straight through,
 * or they would take the lock again. */
void hu_table_lock(void)
{
    hu_guard++;
    pthread_mutex_lock(&lock);
}

void hu_table_unlock(void)
{
    pthread_mutex_unlock(&lock);
    hu_guard--;
}
/* The child of a fork has only the forking thread: whatever another thread
 * held is released by re-initialising. */
void hu_table_atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    hu_guard--;     /* taken by hu_table_lock in the prepare handler */
}
