/*
 * onefile.c - replay fuzz inputs without libFuzzer.
 *
 *   fuzz_TARGET FILE|DIR...
 *
 * Linked with one tests/fuzz/fuzz_*.c target, this main() feeds every file
 * named on the command line, and every file under every directory named
 * (recursively, in name order, hidden files skipped), to
 * LLVMFuzzerTestOneInput() once.  Each input is copied into a heap block of
 * exactly its size, so a target that reads one byte too far trips
 * AddressSanitizer.  This is how `make test` replays tests/fuzz/corpus/ and
 * tests/fuzz/regress/ with gcc, as libpcap's testprogs/fuzz/onefile.c and
 * Suricata's src/tests/fuzz/onefile.c do.
 *
 * Exit status: 0 when every input was replayed, 2 when one could not be
 * read.  A crash is the sanitizer's to report; the input that crashed or
 * aborted is named on stderr.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ONEFILE_MAX_INPUT (64L * 1024 * 1024)  /* no corpus file is near this */
#define ONEFILE_MAX_PATH  4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* Present only in a sanitizer build. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static unsigned long onefile_count;
static const char *onefile_current;     /* the input being replayed */

/* Names the input that failed.  Called by a sanitizer before it exits, or
 * from a signal handler, so it only uses write(2). */
static void onefile_on_death(void)
{
    static const char msg[] = "onefile: failed on input ";

    if (onefile_current == NULL)
        return;
    if (write(2, msg, sizeof msg - 1) < 0 ||
        write(2, onefile_current, strlen(onefile_current)) < 0 ||
        write(2, "\n", 1) < 0)
        return;     /* nothing more we can do on the way out */
}

/* A target's abort() (its own assertion), or a crash in a build without a
 * sanitizer: name the input, then die of the same signal. */
static void onefile_on_signal(int sig)
{
    onefile_on_death();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one regular file into an exact-size buffer and runs the target on
 * it.  Returns 0, or -1 after printing why the file could not be read. */
static int onefile_run_file(const char *path, off_t size)
{
    FILE *f;
    uint8_t *buf;
    int rc = -1;

    if (size < 0 || size > ONEFILE_MAX_INPUT) {
        fprintf(stderr, "onefile: %s: too large\n", path);
        return -1;
    }
    /* malloc(0) may return NULL; libFuzzer never passes NULL, so keep 1. */
    buf = malloc(size > 0 ? (size_t)size : 1);
    f = fopen(path, "rb");
    if (buf == NULL || f == NULL) {
        fprintf(stderr, "onefile: cannot open %s\n", path);
        goto out;
    }
    if (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "onefile: short read on %s\n", path);
        goto out;
    }
    onefile_current = path;
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    onefile_current = NULL;
    onefile_count++;
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    free(buf);
    return rc;
}

static int onefile_skip_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Replays a file, or every file below a directory.  Returns 0 or -1. */
static int onefile_run_path(const char *path)
{
    struct dirent **names;
    struct stat st;
    char sub[ONEFILE_MAX_PATH];
    int n, i, rc = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "onefile: cannot open %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? onefile_run_file(path, st.st_size) : 0;

    n = scandir(path, &names, onefile_skip_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "onefile: cannot list %s\n", path);
        return -1;
    }
    for (i = 0; i < n; i++) {
        int len = snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
        if (len < 0 || (size_t)len >= sizeof sub) {
            fprintf(stderr, "onefile: path too long under %s\n", path);
            rc = -1;
        } else if (onefile_run_path(sub) != 0) {
            rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int i, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, onefile_on_signal);
    if (__sanitizer_set_death_callback != NULL) {
        __sanitizer_set_death_callback(onefile_on_death);
    } else {
        /* Under a sanitizer these are its to report. */
        signal(SIGSEGV, onefile_on_signal);
        signal(SIGBUS, onefile_on_signal);
        signal(SIGFPE, onefile_on_signal);
    }
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++)
        if (onefile_run_path(argv[i]) != 0)
            rc = 2;
    printf("onefile: replayed %lu inputs\n", onefile_count);
    return rc;
}
