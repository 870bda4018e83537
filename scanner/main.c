/*
 * main.c - the leakscan command: options, inputs, the run, the report and
 * the exit code.  The only file that prints errors and chooses exit codes.
 *
 * Exit codes (documented in the README and --help):
 *   0  scanned completely, no finding at or above --fail-on
 *   1  findings at or above --fail-on (default high)
 *   2  usage or input error: nothing was scanned
 *   3  scanned, but incomplete (truncated or unreadable input, dropped
 *      packets, a memory cap hit, interrupted) and no failing finding
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../reports/finding.h"
#include "../reports/report.h"
#include "../reports/service.h"
#include "capture.h"
#include "classify.h"
#include "engine.h"
#include "stats.h"

#define EXIT_PASS 0
#define EXIT_FINDINGS 1
#define EXIT_USAGE 2
#define EXIT_INCOMPLETE 3

struct options {
    const char **reads;
    size_t nreads;
    const char *iface;
    const char *filter;
    const char *out;
    double duration;
    uint64_t count;
    int fail_on;
    const char *detectors;      /* --detectors, NULL for all */
    bool quiet;
    bool show_secrets;
};

static void usage(FILE *fp)
{
    fputs("usage: leakscan -r FILE|DIR|- [-r ...] [-o REPORT.json] [options]\n"
          "       leakscan -i IFACE [-f FILTER] [--duration S] [--count N] [-o REPORT.json]\n"
          "\n"
          "Finds what an attacker on the network could read: cleartext protocols,\n"
          "credentials, session tokens and card data, and grades encrypted flows.\n"
          "\n"
          "  -r, --read FILE       read a pcap or pcapng file; a directory is scanned\n"
          "                        recursively; - reads standard input; repeatable\n"
          "  -i, --interface IF    capture live on IF (needs root or CAP_NET_RAW)\n"
          "  -f, --filter BPF      capture filter for -i (tcpdump syntax)\n"
          "      --duration S      stop a live capture after S seconds\n"
          "      --count N         stop a live capture after N packets\n"
          "  -o, --output FILE     write the JSON report to FILE (mode 0600, atomic);\n"
          "                        default or -: standard output\n"
          "      --fail-on SEV     exit 1 when a finding is at or above SEV:\n"
          "                        critical, high (default), medium, low, info\n"
          "      --show-secrets    print secrets in full in the report (incident response)\n"
          "      --detectors LIST  run only these detectors (comma-separated names, all,\n"
          "                        or none for inventory only); the report lists them\n"
          "      --list-detectors  print the detector names and exit\n"
          "  -q, --quiet           no summary on the terminal\n"
          "  -h, --help            this help\n"
          "  -V, --version         versions of leakscan, libpcap and nDPI\n"
          "\n"
          "Exit codes: 0 pass, 1 findings at or above --fail-on, 2 usage or input\n"
          "error (nothing scanned), 3 scanned but incomplete (truncated input, drops,\n"
          "a memory cap hit).  A live capture stops on --duration, --count, SIGINT or\n"
          "SIGTERM and still writes a complete report.\n", fp);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int die_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "leakscan: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fputs("Try 'leakscan --help'.\n", stderr);
    return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (s[0] == '-' || s[0] == '\0')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (*end != '\0' || !(v > 0) || v > 365.0 * 86400)
        return false;
    *out = v;
    return true;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_DURATION = 1000, OPT_COUNT, OPT_FAIL_ON, OPT_SHOW, OPT_DETECTORS, OPT_LIST };
    static const struct option longopts[] = {
        { "read", required_argument, NULL, 'r' },
        { "interface", required_argument, NULL, 'i' },
        { "filter", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "duration", required_argument, NULL, OPT_DURATION },
        { "count", required_argument, NULL, OPT_COUNT },
        { "fail-on", required_argument, NULL, OPT_FAIL_ON },
        { "show-secrets", no_argument, NULL, OPT_SHOW },
        { "detectors", required_argument, NULL, OPT_DETECTORS },
        { "list-detectors", no_argument, NULL, OPT_LIST },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    o->fail_on = SEV_HIGH;
    o->reads = calloc((size_t)argc, sizeof *o->reads);
    if (o->reads == NULL)
        return die_usage("out of memory", NULL);
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:i:f:o:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->reads[o->nreads++] = optarg;
            break;
        case 'i':
            o->iface = optarg;
            break;
        case 'f':
            o->filter = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case OPT_DURATION:
            if (!parse_seconds(optarg, &o->duration))
                return die_usage("--duration wants a number of seconds", optarg);
            break;
        case OPT_COUNT:
            if (!parse_u64(optarg, &o->count) || o->count == 0)
                return die_usage("--count wants a positive number", optarg);
            break;
        case OPT_FAIL_ON:
            o->fail_on = severity_parse(optarg);
            if (o->fail_on < 0)
                return die_usage("--fail-on wants critical, high, medium, low or info", optarg);
            break;
        case OPT_SHOW:
            o->show_secrets = true;
            break;
        case OPT_DETECTORS:
            o->detectors = optarg;
            break;
        case OPT_LIST:
            for (size_t i = 0; detector_registry[i] != NULL; i++)
                printf("%s\n", detector_registry[i]->name);
            return EXIT_PASS;
        case 'h':
            usage(stdout);
            return EXIT_PASS;
        case 'V':
            printf("leakscan %s\n%s\nnDPI %s\n", LEAKSCAN_VERSION, capture_lib_version(),
                   classify_version());
            return EXIT_PASS;
        case ':':
            return die_usage("option needs an argument", argv[optind - 1]);
        default:
            return die_usage("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return die_usage("unexpected argument", argv[optind]);
    if (o->nreads == 0 && o->iface == NULL)
        return die_usage("nothing to scan: give -r FILE or -i INTERFACE", NULL);
    if (o->nreads > 0 && o->iface != NULL)
        return die_usage("-r and -i cannot be combined", NULL);
    if (o->iface == NULL && (o->filter || o->duration > 0 || o->count > 0))
        return die_usage("-f, --duration and --count apply to live capture (-i)", NULL);
    if (o->out == NULL)
        o->out = "-";
    return -1;
}

/* Adds an input slot; path is copied. */
static struct report_input *add_input(struct report_meta *m, const char *path)
{
    struct report_input *ni = realloc(m->inputs, (m->ninputs + 1) * sizeof *ni);
    if (ni == NULL)
        return NULL;
    m->inputs = ni;
    struct report_input *in = &m->inputs[m->ninputs++];
    memset(in, 0, sizeof *in);
    in->path = strdup(path);
    in->format = "unknown";
    return in;
}

/* Scans one -r argument.  Returns the number of inputs that could be read. */
static size_t scan_path(struct report_meta *m, const char *path, bool progress)
{
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        char err[REPORT_ERR_LEN];
        size_t n = 0;
        char **files = capture_list_dir(path, &n, &m->skipped_files, err, sizeof err);
        if (files == NULL) {
            struct report_input *in = add_input(m, path);
            if (in != NULL)
                snprintf(in->error, sizeof in->error, "%s", err);
            fprintf(stderr, "leakscan: %s\n", err);
            return 0;
        }
        size_t ok = 0;
        for (size_t i = 0; i < n; i++) {
            if (!capture_stop)
                ok += scan_path(m, files[i], progress);
            free(files[i]);
        }
        free(files);
        return ok;
    }
    struct report_input *in = add_input(m, path);
    if (in == NULL)
        return 0;
    if (capture_file(path, in, progress) != 0) {
        fprintf(stderr, "leakscan: %s: %s\n", strcmp(path, "-") ? path : "standard input",
                in->error);
        return 0;
    }
    if (in->error[0])
        fprintf(stderr, "leakscan: %s: %s (report covers the packets before it)\n", path,
                in->error);
    return 1;
}

static void print_summary(FILE *fp, const struct report_meta *m, const char *out)
{
    const struct traffic_totals *t = services_totals();
    uint64_t per[SEV_COUNT];
    findings_per_severity(per);
    fprintf(fp, "leakscan: %llu packets, %llu flows (%llu encrypted, %llu plaintext, "
                "%llu unknown), %zu services\n",
            (unsigned long long)g_stats.packets, (unsigned long long)g_stats.flows,
            (unsigned long long)(t->flows[SV_ENCRYPTED] + t->flows[SV_UPGRADED]),
            (unsigned long long)t->flows[SV_PLAINTEXT], (unsigned long long)t->flows[SV_UNKNOWN],
            services_count());
    fprintf(fp, "leakscan: findings: %llu critical, %llu high, %llu medium, %llu low, "
                "%llu info\n",
            (unsigned long long)per[SEV_CRITICAL], (unsigned long long)per[SEV_HIGH],
            (unsigned long long)per[SEV_MEDIUM], (unsigned long long)per[SEV_LOW],
            (unsigned long long)per[SEV_INFO]);
    size_t n = 0;
    struct finding *const *all = findings_sorted(&n);
    for (size_t i = 0; i < n && i < 10; i++) {
        struct finding_view v;
        char ip[ADDR_STRLEN];
        finding_view(all[i], &v);
        if (v.rule->severity < SEV_MEDIUM)
            continue;
        addr_format(&v.server, ip, sizeof ip);
        fprintf(fp, "  %-8s %-28s %s%s%s:%u  %s\n", severity_name(v.rule->severity), v.rule->id,
                v.server.family == 6 ? "[" : "", ip, v.server.family == 6 ? "]" : "",
                v.server_port, v.rule->title);
    }
    if (m->detectors != NULL) {
        fprintf(fp, "leakscan: restricted scan, detectors:");
        for (size_t i = 0; i < m->ndetectors; i++)
            fprintf(fp, "%s%s", i ? "," : " ", m->detectors[i]);
        fprintf(fp, "%s\n", m->ndetectors == 0 ? " none" : "");
    }
    fprintf(fp, "leakscan: verdict %s (fail-on %s)%s; report: %s\n",
            report_failed(m) ? "FAIL" : "pass", severity_name((enum severity)m->fail_on),
            report_complete(m) ? "" : ", scan INCOMPLETE",
            strcmp(out, "-") == 0 ? "standard output" : out);
}

static void meta_free(struct report_meta *m)
{
    for (size_t i = 0; i < m->ninputs; i++)
        free(m->inputs[i].path);
    free(m->inputs);
    for (size_t i = 0; i < m->nifaces; i++)
        free(m->ifaces[i].filter);
    free(m->ifaces);
}

int main(int argc, char **argv)
{
    struct options o;
    struct report_meta m;
    char err[REPORT_ERR_LEN];
    memset(&o, 0, sizeof o);
    memset(&m, 0, sizeof m);

    /* Flows come and go by the hundred thousand: keep freed memory for
     * reuse instead of handing it back to the kernel and faulting it in
     * again (the peak stays bounded by the caps of scanner/limits.h). */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TOP_PAD, 8 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);

    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) {
        free(o.reads);
        return rc;
    }
    m.start_ns = now_ns();
    m.fail_on = o.fail_on;
    m.show_secrets = o.show_secrets;
    m.live = o.iface != NULL;
    m.libpcap_version = capture_lib_version();
    finding_set_show_secrets(o.show_secrets);

    /* the detectors of this run: every one unless --detectors says */
    const struct detector **dets = calloc(detector_count() + 1, sizeof *dets);
    const char **names = calloc(detector_count() + 1, sizeof *names);
    if (dets == NULL || names == NULL) {
        fprintf(stderr, "leakscan: out of memory\n");
        free(dets);
        free(names);
        free(o.reads);
        return EXIT_USAGE;
    }
    if (o.detectors != NULL && strcmp(o.detectors, "all") != 0) {
        char bad[80];
        if (detector_select(o.detectors, dets, bad, sizeof bad) != 0) {
            fprintf(stderr, "leakscan: --detectors: no detector named '%s' "
                            "(leakscan --list-detectors names them)\n", bad);
            free(dets);
            free(names);
            free(o.reads);
            return EXIT_USAGE;
        }
        for (size_t i = 0; dets[i] != NULL; i++)
            names[m.ndetectors++] = dets[i]->name;
        m.detectors = names;
        engine_use_detectors(dets);
    }

    struct engine_options eo = { .classify = true };
    if (engine_init(&eo, err, sizeof err) != 0) {
        fprintf(stderr, "leakscan: %s\n", err);
        free(dets);
        free(names);
        free(o.reads);
        return EXIT_USAGE;
    }
    m.ndpi_version = classify_version();
    capture_signals();

    size_t scanned = 0;
    if (o.iface != NULL) {
        m.ifaces = calloc(1, sizeof *m.ifaces);
        if (m.ifaces == NULL) {
            fprintf(stderr, "leakscan: out of memory\n");
            return EXIT_USAGE;
        }
        m.nifaces = 1;
        m.ifaces[0].filter = o.filter ? strdup(o.filter) : NULL;
        if (capture_live(o.iface, o.filter, o.duration, o.count, &m.ifaces[0]) != 0)
            fprintf(stderr, "leakscan: %s: %s\n", o.iface, m.ifaces[0].error);
        else
            scanned = 1;
    } else {
        bool progress = !o.quiet && isatty(STDERR_FILENO);
        for (size_t i = 0; i < o.nreads && !capture_stop; i++)
            scanned += scan_path(&m, o.reads[i], progress);
        m.interrupted = capture_stop != 0;
    }
    if (scanned == 0) {
        engine_free();
        findings_free();
        services_free();
        meta_free(&m);
        free(dets);
        free(names);
        free(o.reads);
        return EXIT_USAGE;
    }
    engine_finish();
    m.end_ns = now_ns();
    if (report_write(&m, o.out, err, sizeof err) != 0) {
        fprintf(stderr, "leakscan: %s\n", err);
        rc = EXIT_USAGE;
    } else {
        if (!o.quiet)
            print_summary(strcmp(o.out, "-") == 0 ? stderr : stdout, &m, o.out);
        if (report_failed(&m))
            rc = EXIT_FINDINGS;
        else if (!report_complete(&m))
            rc = EXIT_INCOMPLETE;
        else
            rc = EXIT_PASS;
    }
    engine_free();
    findings_free();
    services_free();
    meta_free(&m);
    free(dets);
    free(names);
    free(o.reads);
    return rc;
}
