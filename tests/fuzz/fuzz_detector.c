/*
 * fuzz_detector.c - one registered detector over a scripted conversation,
 * through engine_run_detector() (the engine's delivery path: pending
 * bytes, need-more, gaps are not involved).
 *
 * Input:
 *   byte 0    which detector: index into detector_registry (modulo count),
 *             so a new detector is fuzzed the day it is registered
 *   byte 1    delivery: 0 each step whole, else cut into pieces of that
 *             many bytes; bit 7 of byte 0 makes the flow UDP
 *   then steps: dir(1: low bit, 0 to the server) length(2, big-endian)
 *               bytes(length) ... (a short last step takes what is left)
 *
 * Each step is copied into a heap block of exactly its size, so a read
 * past a step trips AddressSanitizer.  The flow view names the detector's
 * protocol with a port picked from byte 0, as nDPI would have.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"

#define MAX_STEPS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t ndet = detector_count();
    if (size < 2 || ndet == 0)
        return 0;
    const struct detector *det = detector_registry[(data[0] & 0x7f) % ndet];
    size_t chunk = data[1];

    struct det_step steps[MAX_STEPS];
    uint8_t *copies[MAX_STEPS];
    size_t nsteps = 0;
    size_t off = 2;
    while (off < size && nsteps < MAX_STEPS) {
        enum dir d = data[off] & 1 ? DIR_TO_CLIENT : DIR_TO_SERVER;
        off++;
        size_t len = 0;
        if (size - off >= 2) {
            len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
        }
        if (len > size - off)
            len = size - off;
        uint8_t *c = malloc(len ? len : 1);
        if (c == NULL)
            break;
        if (len > 0)
            memcpy(c, data + off, len);
        off += len;
        copies[nsteps] = c;
        steps[nsteps].d = d;
        steps[nsteps].p = c;
        steps[nsteps].n = len;
        nsteps++;
    }

    struct flow_view fv;
    memset(&fv, 0, sizeof fv);
    fv.id = 1;
    fv.transport = data[0] & 0x80 ? 17 : 6;
    fv.client.family = fv.server.family = 4;
    fv.client.b[0] = 10, fv.client.b[3] = 1;
    fv.server.b[0] = 10, fv.server.b[3] = 2;
    fv.client_port = 50000;
    fv.server_port = (uint16_t)(1000 + data[0]);
    fv.protocol = det->name;
    fv.by_dpi = true;

    engine_run_detector(det, &fv, steps, nsteps, chunk);
    findings_free();
    for (size_t i = 0; i < nsteps; i++)
        free(copies[i]);
    return 0;
}
