/*
 * engine.h - packets in, flows, streams and detector calls out.
 *
 * The engine owns the flow table, TCP reassembly and the classifier, and
 * drives the detectors of detectors/registry.c.  scanner/main.c feeds it
 * packets from scanner/capture.c and asks it to finish; reports/ reads what
 * it counted.
 */
#ifndef LEAKSCAN_ENGINE_H
#define LEAKSCAN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../detectors/detector.h"

struct engine_options {
    bool classify;          /* run nDPI (off only in some unit tests) */
};

/* Sets up the engine (and nDPI).  Returns -1 and fills err on failure. */
int engine_init(const struct engine_options *opt, char *err, size_t errlen);

/* One captured frame of the given DLT link type.  caplen bytes are readable
 * at data; wirelen is the original length.  pkt_no counts from 1 over all
 * inputs. */
void engine_packet(int linktype, const uint8_t *data, uint32_t caplen,
                   uint32_t wirelen, uint64_t ts_ns, uint64_t pkt_no);

/* Ends every flow (end of input): detectors get on_end, services and
 * counters are final. */
void engine_finish(void);

/* Frees everything (after the report is written). */
void engine_free(void);

/* Test support: the detectors offered to new flows (a NULL-terminated
 * list); NULL restores detectors/registry.c. */
void engine_use_detectors(const struct detector *const *list);

/*
 * Test support: runs one detector over a scripted conversation exactly as
 * the engine delivers a reassembled stream, with the conversation cut into
 * pieces of `chunk` bytes (0: each step whole).  Findings go to the normal
 * finding store (reports/finding.h).  Returns 0, or -1 on bad arguments.
 */
struct det_step {
    enum dir d;
    const uint8_t *p;
    size_t n;
};

int engine_run_detector(const struct detector *det, const struct flow_view *fv,
                        const struct det_step *steps, size_t nsteps, size_t chunk);

#endif
