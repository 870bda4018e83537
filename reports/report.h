/*
 * report.h - what the scan was (inputs, interfaces, times) and the writer
 * of the JSON document of ../shared/docs/FINDINGS.md.
 */
#ifndef LEAKSCAN_REPORT_H
#define LEAKSCAN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_ERR_LEN 256

/* One offline input (a file, or standard input). */
struct report_input {
    char *path;                 /* as given (owned) */
    char sha256[65];            /* of the bytes read; "" if none */
    const char *format;         /* "pcap", "pcap-nsec", "pcapng", "unknown" */
    char link_type[40];         /* "EN10MB", "LINUX_SLL2"... */
    uint64_t packets;
    uint64_t bytes;             /* file bytes read */
    uint64_t first_ns, last_ns;
    bool scanned;               /* packets were read from it */
    bool truncated;             /* it ended inside a record */
    char error[REPORT_ERR_LEN]; /* "" when none */
};

/* One live interface. */
struct report_iface {
    char name[64];
    char *filter;               /* BPF filter or NULL (owned) */
    uint32_t link_dlt;
    char link_type[40];
    uint64_t packets;           /* packets leakscan processed */
    uint64_t received, dropped, ifdropped;  /* libpcap's pcap_stats() */
    bool stats_ok;
    char stop_reason[32];       /* "duration", "count", "signal", "error" */
    char error[REPORT_ERR_LEN];
};

struct report_meta {
    uint64_t start_ns, end_ns;          /* wall clock of the scan itself */
    bool live;
    struct report_input *inputs;
    size_t ninputs;
    struct report_iface *ifaces;
    size_t nifaces;
    uint64_t skipped_files;             /* non-capture files in a directory */
    int fail_on;                        /* enum severity */
    bool show_secrets;
    const char *libpcap_version;
    const char *ndpi_version;
    bool interrupted;                   /* stopped by a signal before the end */
    const char *const *detectors;       /* --detectors: the ones that ran; NULL: all */
    size_t ndetectors;
};

/* Whether the scan is complete (no truncation, drop, cap or error). */
bool report_complete(const struct report_meta *m);
/* "pass" or "fail" against fail_on. */
bool report_failed(const struct report_meta *m);

/* Writes the report to path ("-" for standard output), atomically (a
 * temporary file in the same directory, mode 0600, then rename).  Returns
 * -1 and fills err on failure. */
int report_write(const struct report_meta *m, const char *path, char *err, size_t errlen);

/* Formats ns since the epoch as RFC 3339 UTC with microseconds into
 * buf[32]. */
void report_time(uint64_t ns, char *buf, size_t len);

#endif
