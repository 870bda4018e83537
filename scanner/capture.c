/*
 * capture.c - libpcap behind the interface of capture.h.
 *
 * Offline: a regular file is hashed (SHA-256) by a thread of its own while
 * libpcap reads it, so the digest costs the scan nothing on a second core.
 * Standard input cannot be read twice: it goes through a stdio cookie that
 * hashes every byte libpcap reads and drains the rest into the hash when
 * libpcap stops early, so the digest is always that of the whole input.
 * Timestamps are asked for in nanoseconds.
 *
 * Live: pcap_create/pcap_activate with a large snaplen (nDPI and the
 * detectors need whole packets), promiscuous mode, a 64 MiB buffer and
 * immediate mode; the BPF filter is compiled with its errors reported; the
 * loop stops on the duration, the count or a signal, and pcap_stats()
 * gives the received/dropped counters for the report.
 */
#define _GNU_SOURCE 1
#include "capture.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "../reports/hash.h"
#include "decode.h"
#include "engine.h"
#include "stats.h"

volatile sig_atomic_t capture_stop;
static pcap_t *live_handle;         /* for the signal handler */
static uint64_t packet_number;      /* over all inputs, from 1 */

static void capture_on_signal(int sig)
{
    (void)sig;
    capture_stop = 1;
    if (live_handle != NULL)
        pcap_breakloop(live_handle);
}

void capture_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = capture_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

const char *capture_lib_version(void)
{
    return pcap_lib_version();
}

static uint64_t now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- offline */

struct hashing_file {
    FILE *fp;
    struct sha256_stream *sha;
    uint8_t magic[4];
    size_t magic_len;
    uint64_t bytes;
};

static ssize_t hf_read(void *cookie, char *buf, size_t size)
{
    struct hashing_file *h = cookie;
    size_t n = fread(buf, 1, size, h->fp);
    if (n == 0 && ferror(h->fp))
        return -1;
    sha256_stream_update(h->sha, buf, n);
    for (size_t i = 0; i < n && h->magic_len < 4; i++)
        h->magic[h->magic_len++] = (uint8_t)buf[i];
    h->bytes += n;
    return (ssize_t)n;
}

static int hf_close(void *cookie)
{
    /* libpcap closes the stream; the file itself is closed by capture_file
     * after draining the rest into the hash */
    (void)cookie;
    return 0;
}

static const char *format_of(const uint8_t m[4], size_t n)
{
    if (n < 4)
        return "unknown";
    uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    if (be == 0xa1b2c3d4 || be == 0xd4c3b2a1)
        return "pcap";
    if (be == 0xa1b23c4d || be == 0x4d3cb2a1)
        return "pcap-nsec";
    if (be == 0x0a0d0d0a)
        return "pcapng";
    return "unknown";
}

struct offline_arg {
    struct report_input *in;
    int dlt;
    struct hashing_file *hf;
    FILE *file;                 /* the file libpcap reads, for the position */
    bool progress;
    uint64_t next_progress_ns;
    off_t size;
};

static void offline_progress(struct offline_arg *a)
{
    uint64_t now = now_mono_ns();
    if (now < a->next_progress_ns)
        return;
    a->next_progress_ns = now + 1000000000ULL;
    uint64_t pos = a->hf->bytes;
    if (a->file != NULL) {
        off_t o = ftello(a->file);
        pos = o > 0 ? (uint64_t)o : 0;
    }
    double mib = (double)pos / (1024.0 * 1024.0);
    if (a->size > 0)
        fprintf(stderr, "\rleakscan: %s: %.0f MiB (%.0f%%), %llu packets, %llu flows   ",
                a->in->path, mib, 100.0 * (double)pos / (double)a->size,
                (unsigned long long)a->in->packets, (unsigned long long)g_stats.flows);
    else
        fprintf(stderr, "\rleakscan: %s: %.0f MiB, %llu packets   ", a->in->path, mib,
                (unsigned long long)a->in->packets);
}

static void offline_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct offline_arg *a = (struct offline_arg *)user;
    /* pcap_pkthdr.ts holds nanoseconds in tv_usec when the handle was
     * opened with nanosecond precision */
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
    struct report_input *in = a->in;
    in->packets++;
    if (in->first_ns == 0 || ts < in->first_ns)
        in->first_ns = ts;
    if (ts > in->last_ns)
        in->last_ns = ts;
    engine_packet(a->dlt, data, h->caplen, h->len, ts, ++packet_number);
    if (a->progress && (in->packets & 0xfff) == 0)
        offline_progress(a);
}

static void input_error(struct report_input *in, const char *fmt, const char *detail)
{
    snprintf(in->error, sizeof in->error, fmt, detail);
}

/* Hashes what libpcap did not read, so the digest is the whole file's. */
static void drain_into_hash(struct hashing_file *hf)
{
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, hf->fp)) > 0) {
        sha256_stream_update(hf->sha, buf, n);
        hf->bytes += n;
    }
}

int capture_file(const char *path, struct report_input *in, bool progress)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct hashing_file hf;
    struct offline_arg arg;
    pcap_t *p = NULL;
    FILE *cookie = NULL;
    struct sha256_job *job = NULL;
    int rc = -1;

    memset(&hf, 0, sizeof hf);
    in->format = "unknown";
    bool is_stdin = strcmp(path, "-") == 0;
    if (is_stdin) {
        hf.fp = stdin;
    } else {
        hf.fp = fopen(path, "rb");
        if (hf.fp == NULL) {
            input_error(in, "cannot open: %s", strerror(errno));
            return -1;
        }
    }
    struct stat st;
    off_t size = 0;
    memset(&st, 0, sizeof st);
    if (fstat(fileno(hf.fp), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            input_error(in, "%s", "is a directory");
            goto out;
        }
        if (S_ISREG(st.st_mode))
            size = st.st_size;
    }
    /* A regular file is hashed on a thread of its own and handed to
     * libpcap as it is; a pipe goes through the hashing cookie. */
    if (!is_stdin && S_ISREG(st.st_mode))
        job = sha256_file_start(path);
    FILE *src;
    if (job != NULL) {
        /* libpcap reads record by record through stdio: a 1 MiB buffer
         * instead of the 4 KiB default saves a system call per few packets */
        setvbuf(hf.fp, NULL, _IOFBF, 1 << 20);
        hf.magic_len = fread(hf.magic, 1, sizeof hf.magic, hf.fp);
        rewind(hf.fp);
        src = hf.fp;
    } else {
        hf.sha = sha256_stream_new();
        cookie_io_functions_t io = { .read = hf_read, .write = NULL, .seek = NULL,
                                     .close = hf_close };
        cookie = fopencookie(&hf, "rb", io);
        if (hf.sha == NULL || cookie == NULL) {
            input_error(in, "%s", "out of memory");
            goto out;
        }
        src = cookie;
    }
    errbuf[0] = '\0';
    p = pcap_fopen_offline_with_tstamp_precision(src, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    in->format = format_of(hf.magic, hf.magic_len);
    if (p == NULL) {
        /* libpcap closes nothing on failure */
        if (hf.magic_len == 0)
            input_error(in, "%s", "empty file: not a capture");
        else if (strcmp(in->format, "unknown") == 0)
            input_error(in, "not a pcap or pcapng capture (%.180s)", errbuf);
        else
            input_error(in, "cannot read the capture header: %.180s", errbuf);
        goto out;
    }
    if (src == hf.fp)
        hf.fp = NULL;               /* pcap_close() closes it */
    cookie = NULL;                  /* owned by the pcap handle now */
    int dlt = pcap_datalink(p);
    const char *name = pcap_datalink_val_to_name(dlt);
    snprintf(in->link_type, sizeof in->link_type, "%s", name ? name : "unknown");
    if (!decode_linktype_supported(dlt)) {
        char what[96];
        snprintf(what, sizeof what, "%d (%s)", dlt, name ? name : "unnamed");
        input_error(in, "unsupported link type %s", what);
        goto out;
    }
    arg.in = in;
    arg.dlt = dlt;
    arg.hf = &hf;
    arg.file = job != NULL ? pcap_file(p) : NULL;
    arg.progress = progress;
    arg.next_progress_ns = now_mono_ns() + 1000000000ULL;
    arg.size = size;
    rc = 0;
    while (!capture_stop) {
        int r = pcap_dispatch(p, 4096, offline_packet, (u_char *)&arg);
        if (r == 0 || r == PCAP_ERROR_BREAK)
            break;                  /* end of file */
        if (r == PCAP_ERROR) {
            const char *e = pcap_geterr(p);
            in->truncated = strstr(e, "truncated") != NULL;
            input_error(in, "%s", e);
            break;
        }
    }
    in->scanned = in->packets > 0 || in->error[0] == '\0';
    if (progress)
        fprintf(stderr, "\r%*s\r", 78, "");
out:
    if (p != NULL)
        pcap_close(p);
    if (cookie != NULL)
        fclose(cookie);
    if (hf.sha != NULL) {
        drain_into_hash(&hf);
        sha256_stream_final(hf.sha, in->sha256);
    }
    if (job != NULL) {
        sha256_file_finish(job, in->sha256);
        if (size > 0)
            in->bytes = (uint64_t)size;
    } else {
        in->bytes = hf.bytes;
    }
    if (hf.fp != NULL && !is_stdin)
        fclose(hf.fp);
    return rc;
}

/* ---------------------------------------------------------------- directories */

static bool looks_like_capture(const char *path)
{
    uint8_t m[4];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return false;
    size_t n = fread(m, 1, sizeof m, fp);
    fclose(fp);
    return strcmp(format_of(m, n), "unknown") != 0;
}

struct path_list {
    char **v;
    size_t n, cap;
};

static bool path_push(struct path_list *l, const char *dir, const char *name)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, ncap * sizeof *nv);
        if (nv == NULL)
            return false;
        l->v = nv;
        l->cap = ncap;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p == NULL)
        return false;
    snprintf(p, len, "%s/%s", dir, name);
    l->v[l->n++] = p;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Recursion stops at this depth (symlink loops, absurd trees). */
#define DIR_MAX_DEPTH 16

static int list_dir(const char *dir, struct path_list *out, uint64_t *skipped, int depth,
                    char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot read directory: %s", dir, strerror(errno));
        return -1;
    }
    struct path_list here = { NULL, 0, 0 };
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!path_push(&here, dir, e->d_name)) {
            closedir(d);
            snprintf(err, errlen, "%s: out of memory", dir);
            return -1;
        }
    }
    closedir(d);
    if (here.n > 0)
        qsort(here.v, here.n, sizeof *here.v, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < here.n; i++) {
        struct stat st;
        char *p = here.v[i];
        here.v[i] = NULL;
        if (rc == 0 && stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < DIR_MAX_DEPTH) {
                rc = list_dir(p, out, skipped, depth + 1, err, errlen);
            } else if (S_ISREG(st.st_mode) && looks_like_capture(p)) {
                if (out->n == out->cap) {
                    size_t ncap = out->cap ? out->cap * 2 : 64;
                    char **nv = realloc(out->v, ncap * sizeof *nv);
                    if (nv == NULL) {
                        snprintf(err, errlen, "%s: out of memory", dir);
                        rc = -1;
                        free(p);
                        continue;
                    }
                    out->v = nv;
                    out->cap = ncap;
                }
                out->v[out->n++] = p;
                continue;
            } else if (S_ISREG(st.st_mode)) {
                (*skipped)++;
            }
        }
        free(p);
    }
    free(here.v);
    return rc;
}

char **capture_list_dir(const char *dir, size_t *n, uint64_t *skipped, char *err, size_t errlen)
{
    struct path_list out = { NULL, 0, 0 };
    *n = 0;
    if (list_dir(dir, &out, skipped, 0, err, errlen) != 0) {
        for (size_t i = 0; i < out.n; i++)
            free(out.v[i]);
        free(out.v);
        return NULL;
    }
    if (out.n == 0) {
        snprintf(err, errlen, "%s: no pcap or pcapng files in this directory", dir);
        free(out.v);
        return NULL;
    }
    *n = out.n;
    return out.v;
}

/* ---------------------------------------------------------------- live */

struct live_arg {
    struct report_iface *f;
    int dlt;
    uint64_t count;
};

static void live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct live_arg *a = (struct live_arg *)user;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
    a->f->packets++;
    engine_packet(a->dlt, data, h->caplen, h->len, ts, ++packet_number);
    if (a->count > 0 && a->f->packets >= a->count && live_handle != NULL)
        pcap_breakloop(live_handle);
}

/* Opens and activates the interface; NULL with f->error on failure. */
static pcap_t *live_open(const char *ifname, struct report_iface *f)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    pcap_t *p = pcap_create(ifname, errbuf);
    if (p == NULL) {
        snprintf(f->error, sizeof f->error, "cannot open: %.200s", errbuf);
        return NULL;
    }
    pcap_set_snaplen(p, LIVE_SNAPLEN);
    pcap_set_promisc(p, 1);
    pcap_set_buffer_size(p, LIVE_BUFFER_BYTES);
    pcap_set_immediate_mode(p, 1);
    pcap_set_timeout(p, LIVE_TIMEOUT_MS);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);   /* best effort */
    int r = pcap_activate(p);
    if (r < 0) {
        const char *why = pcap_statustostr(r);
        const char *detail = pcap_geterr(p);
        if (r == PCAP_ERROR_NO_SUCH_DEVICE)
            snprintf(f->error, sizeof f->error, "no such interface");
        else if (r == PCAP_ERROR_PERM_DENIED)
            snprintf(f->error, sizeof f->error,
                     "permission denied (capture needs root or CAP_NET_RAW)");
        else
            snprintf(f->error, sizeof f->error, "%s%s%s", why, detail[0] ? ": " : "", detail);
        pcap_close(p);
        return NULL;
    }
    return p;
}

static int live_filter(pcap_t *p, const char *filter, struct report_iface *f)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(f->error, sizeof f->error, "bad filter '%.80s': %s", filter, pcap_geterr(p));
        return -1;
    }
    int r = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (r != 0) {
        snprintf(f->error, sizeof f->error, "cannot set filter: %s", pcap_geterr(p));
        return -1;
    }
    return 0;
}

int capture_live(const char *ifname, const char *filter, double duration, uint64_t count,
                 struct report_iface *f)
{
    snprintf(f->name, sizeof f->name, "%s", ifname);
    pcap_t *p = live_open(ifname, f);
    if (p == NULL)
        return -1;
    if (filter != NULL && live_filter(p, filter, f) != 0) {
        pcap_close(p);
        return -1;
    }
    struct live_arg arg = { f, pcap_datalink(p), count };
    const char *name = pcap_datalink_val_to_name(arg.dlt);
    snprintf(f->link_type, sizeof f->link_type, "%s", name ? name : "unknown");
    f->link_dlt = (uint32_t)arg.dlt;
    if (!decode_linktype_supported(arg.dlt)) {
        snprintf(f->error, sizeof f->error, "unsupported link type %d (%s)", arg.dlt,
                 name ? name : "unnamed");
        pcap_close(p);
        return -1;
    }
    uint64_t deadline = duration > 0 ? now_mono_ns() + (uint64_t)(duration * 1e9) : 0;
    live_handle = p;
    snprintf(f->stop_reason, sizeof f->stop_reason, "signal");
    while (!capture_stop) {
        int r = pcap_dispatch(p, 1024, live_packet, (u_char *)&arg);
        if (r == PCAP_ERROR) {
            snprintf(f->error, sizeof f->error, "capture failed: %s", pcap_geterr(p));
            snprintf(f->stop_reason, sizeof f->stop_reason, "error");
            break;
        }
        if (count > 0 && f->packets >= count) {
            snprintf(f->stop_reason, sizeof f->stop_reason, "count");
            break;
        }
        if (deadline && now_mono_ns() >= deadline) {
            snprintf(f->stop_reason, sizeof f->stop_reason, "duration");
            break;
        }
    }
    live_handle = NULL;
    struct pcap_stat ps;
    if (pcap_stats(p, &ps) == 0) {
        f->stats_ok = true;
        f->received = ps.ps_recv;
        f->dropped = ps.ps_drop;
        f->ifdropped = ps.ps_ifdrop;
    }
    pcap_close(p);
    return 0;
}
