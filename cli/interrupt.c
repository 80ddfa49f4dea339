/* Stop signals and the staging directory.
 *
 * Why outputs go through a staging directory: thumb_thumbnail_file already writes a temporary file and
 * renames it, but the temporary's name is the library's business. A second interrupt must stop at once
 * without leaving a partial file, so every job writes into a private directory (DIR/.thumb-XXXXXX) and
 * is renamed from there; aborting empties and removes that one directory, whatever the library named
 * its temporaries. Only SIGKILL can leave the staging directory behind, and never a partial output at a
 * final name.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Empty and remove the staging directory. Removing it also stops workers from creating new
 * temporaries there, so repeat until it is gone. */
void remove_stage(const char *dir) {
    for (int tries = 0; tries < 100; tries++) {
        DIR *d = opendir(dir);
        if (!d) return;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
        if (rmdir(dir) == 0 || (errno != ENOTEMPTY && errno != EEXIST)) return;
    }
}

sigset_t stop_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

/* Die by sig, as a shell expects of a program it interrupted. */
void die_by_signal(int sig) {
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* The stop signals are blocked in every thread; this one waits for them. First: no new jobs.
 * Second: remove the staging directory and die now. */
void *signal_thread(void *arg) {
    struct run *r = arg;
    sigset_t set = stop_signals();
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0) continue;
        int expected = 0;
        /* Not cancelled while holding the lock or halfway through removing the staging directory. */
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        if (atomic_compare_exchange_strong(&r->stop, &expected, sig)) {
            pthread_mutex_lock(&r->mu);
            progress_clear(r);
            fprintf(stderr, "thumb: interrupted: finishing %zu job%s in progress (interrupt again to stop now)\n",
                    r->active, r->active == 1 ? "" : "s");
            progress_draw(r);
            pthread_mutex_unlock(&r->mu);
            pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
            continue;
        }
        remove_stage(r->stage_dir);
        die_by_signal(sig);
    }
    return NULL;
}
