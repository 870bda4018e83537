/*
 * fuzz_pcap.c - a whole capture file through capture_file() and the engine
 * (libpcap, decode, flows, reassembly, nDPI, the registered detectors).
 *
 * The input is written to an in-memory file (memfd_create) and read by
 * capture_file() exactly as `leakscan FILE` would; every packet goes to
 * engine_packet().  The engine is set up once, with nDPI; after each input
 * every flow is ended (engine_finish) and findings and services are freed,
 * so inputs do not see each other's flows.  Checked beyond memory safety:
 * after engine_finish no flow is left and all reassembly memory (held
 * segments, hold and pending buffers) is given back.
 */
#define _GNU_SOURCE 1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../reports/finding.h"
#include "../../reports/report.h"
#include "../../reports/service.h"
#include "../../scanner/capture.h"
#include "../../scanner/decode.h"
#include "../../scanner/engine.h"
#include "../../scanner/stats.h"

static int engine_ready;

static int setup(void)
{
    if (engine_ready)
        return 0;
    struct engine_options opt = { .classify = true };
    char err[256];
    if (engine_init(&opt, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_pcap: %s\n", err);
        return -1;
    }
    engine_ready = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (setup() != 0)
        abort();
    int fd = memfd_create("fuzz_pcap", 0);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    struct report_input in;
    memset(&in, 0, sizeof in);
    capture_file(path, &in, false);
    engine_finish();
    if (g_stats.flows_active != 0 || g_stats.reasm_bytes != 0) {
        fprintf(stderr, "fuzz_pcap: after engine_finish: %llu flows, %llu reassembly bytes\n",
                (unsigned long long)g_stats.flows_active,
                (unsigned long long)g_stats.reasm_bytes);
        abort();
    }
    findings_free();
    services_free();
    decode_free();
    memset(&g_stats, 0, sizeof g_stats);
    close(fd);
    return 0;
}
