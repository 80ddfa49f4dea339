/* The thumb CLI's rooms and what they share (cli/ only; the library is reached through thumb.h).
 *   main.c      usage text, usage errors, the version line, the command dispatch
 *   options.c   the thumbnail command's arguments into a struct cli
 *   outputs.c   which output file each input gets (single file or batch directory), name collisions
 *   run.c       the thumbnail command: jobs on worker threads, the summary
 *   interrupt.c stop signals and the staging directory
 *   progress.c  the batch progress bar on a terminal
 *   info.c      `thumb info`: header metadata as text or JSON
 *   util.c      allocation and string helpers that exit on failure
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef THUMB_CLI_H
#define THUMB_CLI_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "thumb.h"

#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2
#define MAX_JOBS 256

/* ---------------------------------------------------------------- main.c */

extern const char usage_text[];
/* "thumb: MESSAGE" and the --help hint on stderr; exits with EXIT_USAGE. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_version(void);

/* ---------------------------------------------------------------- util.c */

void *xmalloc(size_t n);
char *xstrdup(const char *s);
/* "%s%s%s" into a fresh string. */
char *join3(const char *a, const char *b, const char *c);

/* ---------------------------------------------------------------- options.c */

/* One argument step: matches "-x", "--name", "--name=value"; *val receives the value when wanted. */
struct argp {
    int argc;
    char **argv;
    int i;
};
int opt_is(struct argp *a, const char *shrt, const char *lng, int wants_value, const char **val);

/* The thumbnail command's arguments. */
struct cli {
    thumb_options opt;
    const char *out;
    int format_set;
    long jobs;
    int from_stdin;
    char **inputs;
    size_t n_inputs, cap;
};
/* Exits on --help, --version and usage errors. */
void parse_thumb_args(struct cli *c, int argc, char **argv);
void read_inputs_from_stdin(struct cli *c);

/* ---------------------------------------------------------------- outputs.c */

struct job {
    const char *in;
    char *out;              /* final path */
    char *stage;            /* where the library writes it, in the staging directory */
    const char *pre_error;  /* set when the job must fail without running */
};
/* Decide every job's output path (and c->opt.format when unset); returns 1 for a batch (outputs
 * in a directory). *out_dir: where the outputs go, to be freed. */
int plan_jobs(struct cli *c, struct job *jobs, const char **out_dir);
/* Two inputs with one output name (a/x.jpg, b/x.png): the later one fails instead of overwriting. */
void mark_collisions(struct job *jobs, size_t n);
/* mkdir -p. */
int make_dirs(const char *path);

/* ---------------------------------------------------------------- run.c */

struct run {
    const thumb_options *opt;
    struct job *jobs;
    size_t n;
    int progress;           /* stderr is a TTY and this is a batch */
    const char *stage_dir;

    pthread_mutex_t mu;     /* guards everything below and all writes to stderr while running */
    size_t next, done, failed, active;
    atomic_int stop;        /* the signal that asked us to stop, 0 while running */
};
int cmd_thumb(int argc, char **argv);

/* ---------------------------------------------------------------- interrupt.c */

void remove_stage(const char *dir);
sigset_t stop_signals(void);
_Noreturn void die_by_signal(int sig);
/* The thread that waits for the stop signals of a struct run. */
void *signal_thread(void *arg);

/* ---------------------------------------------------------------- progress.c */

/* Both with r->mu held; no-ops unless r->progress. */
void progress_clear(struct run *r);
void progress_draw(struct run *r);

/* ---------------------------------------------------------------- info.c */

int cmd_info(int argc, char **argv);

#endif
