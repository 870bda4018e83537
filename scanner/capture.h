/*
 * capture.h - packets from capture files and live interfaces (libpcap).
 *
 * Every packet read goes to engine_packet().  This is the only interface
 * to libpcap: scanner/capture.c is the only file that includes it.
 */
#ifndef LEAKSCAN_CAPTURE_H
#define LEAKSCAN_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../reports/report.h"

/* Set by the signal handler: stop reading as soon as possible. */
extern volatile sig_atomic_t capture_stop;

/* Installs SIGINT/SIGTERM handlers that set capture_stop (and break a live
 * capture loop). */
void capture_signals(void);

/* Reads one capture file ("-": standard input) into the engine, filling
 * *in.  Returns 0 when packets could be read (the file may still be
 * truncated: in->truncated, in->error), -1 when it could not be opened or
 * is not a capture (in->error says why).  progress: print a progress line
 * on stderr about once a second. */
int capture_file(const char *path, struct report_input *in, bool progress);

/* Expands a directory into the capture files below it (sorted, recursive).
 * Returns a malloc'd array of malloc'd paths (caller frees both) and its
 * length in *n, or NULL with err filled. */
char **capture_list_dir(const char *dir, size_t *n, uint64_t *skipped, char *err, size_t errlen);

/* Captures live until duration (seconds, 0 = none), count (packets, 0 =
 * none) or a signal.  Returns 0 when capture ran, -1 when the interface
 * could not be opened or the filter compiled (f->error says why). */
int capture_live(const char *ifname, const char *filter, double duration, uint64_t count,
                 struct report_iface *f);

/* libpcap's version string. */
const char *capture_lib_version(void);

#endif
