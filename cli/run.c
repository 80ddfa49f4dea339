/* The thumbnail command: one job per input on up to -j worker threads, each with its own context;
 * failures are reported as they happen, a batch (or an interrupted run) ends with a summary.
 * A single file is a batch of one that writes no summary. Interrupts: interrupt.c.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg) {
    struct run *r = arg;
    thumb_ctx *ctx = thumb_ctx_new();
    for (;;) {
        pthread_mutex_lock(&r->mu);
        if (r->next == r->n || atomic_load(&r->stop)) { pthread_mutex_unlock(&r->mu); break; }
        struct job *j = &r->jobs[r->next++];
        r->active++;
        pthread_mutex_unlock(&r->mu);

        int rc = THUMB_OK;
        char detail[1024] = "";
        if (j->pre_error) {
            rc = THUMB_EINVAL;
            snprintf(detail, sizeof detail, "%s", j->pre_error);
        } else if (!ctx) {
            rc = THUMB_ENOMEM;
            snprintf(detail, sizeof detail, "cannot create a context");
        } else {
            rc = thumb_thumbnail_file(ctx, j->in, j->stage, r->opt);
            if (rc != THUMB_OK) {
                snprintf(detail, sizeof detail, "%s", thumb_ctx_detail(ctx));
            } else if (rename(j->stage, j->out) != 0) {
                rc = THUMB_EIO;
                snprintf(detail, sizeof detail, "cannot rename to %s: %s", j->out, strerror(errno));
                unlink(j->stage);
            }
        }

        pthread_mutex_lock(&r->mu);
        r->active--;
        r->done++;
        if (rc != THUMB_OK) {
            r->failed++;
            progress_clear(r);
            fprintf(stderr, "thumb: %s: %s: %s\n", j->in, thumb_error_name(rc), detail);
        }
        progress_draw(r);
        pthread_mutex_unlock(&r->mu);
    }
    thumb_ctx_free(ctx);
    return NULL;
}

int cmd_thumb(int argc, char **argv) {
    struct cli c = {0};
    parse_thumb_args(&c, argc, argv);
    if (!c.out) usage_error("missing -o OUTPUT");
    if (c.out[0] == '\0') usage_error("empty -o");
    if (strcmp(c.out, "-") == 0) usage_error("writing to stdout is not supported: give -o a file name");
    if (c.from_stdin) read_inputs_from_stdin(&c);
    if (c.n_inputs == 0) usage_error("no input file");
    if (c.jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        c.jobs = cpus > 0 ? (cpus < MAX_JOBS ? cpus : MAX_JOBS) : 1;
    }
    if ((size_t)c.jobs > c.n_inputs) c.jobs = (long)c.n_inputs;

    struct job *jobs = calloc(c.n_inputs, sizeof *jobs);
    if (!jobs) { fputs("thumb: out of memory\n", stderr); return EXIT_SOME_FAILED; }
    const char *out_dir = NULL;
    int batch = plan_jobs(&c, jobs, &out_dir);
    if (batch) {
        mark_collisions(jobs, c.n_inputs);
        if (make_dirs(out_dir) != 0) {
            fprintf(stderr, "thumb: cannot create directory %s: %s\n", out_dir, strerror(errno));
            return EXIT_SOME_FAILED;
        }
    }
    char *stage_dir = join3(out_dir, "/.thumb-XXXXXX", "");
    if (!mkdtemp(stage_dir)) {
        fprintf(stderr, "thumb: cannot create a staging directory in %s: %s\n", out_dir, strerror(errno));
        return EXIT_SOME_FAILED;
    }
    const char *ext = c.opt.format == THUMB_FORMAT_PNG ? ".png" : ".jpg";
    for (size_t k = 0; k < c.n_inputs; k++) {
        char num[32];
        snprintf(num, sizeof num, "/%zu", k);
        jobs[k].stage = join3(stage_dir, num, ext);
    }

    struct run r = {.opt = &c.opt, .jobs = jobs, .n = c.n_inputs, .stage_dir = stage_dir,
                    .progress = batch && isatty(STDERR_FILENO)};
    pthread_mutex_init(&r.mu, NULL);
    atomic_init(&r.stop, 0);

    /* Block the stop signals before any thread exists, so every thread inherits the mask. */
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t sig_tid, tids[MAX_JOBS];
    int have_sig_thread = pthread_create(&sig_tid, NULL, signal_thread, &r) == 0;

    double t0 = now_seconds();
    long started = 0;
    for (long k = 1; k < c.jobs; k++) {
        if (pthread_create(&tids[started], NULL, worker, &r) != 0) break;   /* fewer threads is fine */
        started++;
    }
    worker(&r);
    for (long k = 0; k < started; k++) pthread_join(tids[k], NULL);
    double dt = now_seconds() - t0;

    if (have_sig_thread) {
        pthread_cancel(sig_tid);
        pthread_join(sig_tid, NULL);
    }
    remove_stage(stage_dir);

    int sig = atomic_load(&r.stop);
    progress_clear(&r);
    if (batch || sig) {
        size_t ok = r.done - r.failed;
        fprintf(stderr, "thumb: %zu done, %zu failed", ok, r.failed);
        if (r.done < r.n) fprintf(stderr, ", %zu not started (interrupted)", r.n - r.done);
        fprintf(stderr, " in %.2f s (%.1f files/s)\n", dt, dt > 0 ? (double)r.done / dt : 0.0);
    }
    int status = r.failed ? EXIT_SOME_FAILED : 0;

    pthread_mutex_destroy(&r.mu);
    for (size_t k = 0; k < c.n_inputs; k++) { free(jobs[k].out); free(jobs[k].stage); }
    free(jobs);
    for (size_t k = 0; k < c.n_inputs; k++) free(c.inputs[k]);
    free(c.inputs);
    free(stage_dir);
    free((char *)out_dir);
    if (sig) die_by_signal(sig);
    return status;
}
