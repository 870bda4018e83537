/*
 * classify.c - nDPI 4.2 behind the interface of classify.h.
 *
 * Follows ../shared/docs/ndpi-4.2-notes.md: one module, the full protocol
 * bitmask, direction detection off (we set packet_direction ourselves, 0 =
 * client to server), packets passed from the IP header with the time in
 * milliseconds.  A flow is decided as soon as nDPI names it; the engine
 * gives up after a few packets otherwise.
 * Port and IP guesses are never taken as identifications: giveup runs with
 * guessing off, and only DPI confidence sets by_dpi.
 */
#include "classify.h"

#include <stdio.h>
#include <string.h>

#include <ndpi_api.h>

static struct ndpi_detection_module_struct *nd;
static uint32_t flow_size;

int classify_init(char *err, size_t errlen)
{
    nd = ndpi_init_detection_module(ndpi_no_prefs);
    if (nd == NULL) {
        snprintf(err, errlen, "nDPI: cannot initialise the detection module");
        return -1;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(nd, &all);
    ndpi_set_detection_preferences(nd, ndpi_pref_direction_detect_disable, 1);
    ndpi_finalize_initialization(nd);
    flow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
    return 0;
}

void classify_free(void)
{
    if (nd != NULL)
        ndpi_exit_detection_module(nd);
    nd = NULL;
}

const char *classify_version(void)
{
    return ndpi_revision();
}

struct classify_flow *classify_flow_new(void)
{
    struct ndpi_flow_struct *f = ndpi_flow_malloc(flow_size);
    if (f == NULL)
        return NULL;
    memset(f, 0, flow_size);        /* ndpi_flow_malloc does not clear */
    return (struct classify_flow *)f;
}

static void classify_fill(struct ndpi_flow_struct *f, ndpi_protocol p,
                          struct classify_result *out)
{
    memset(out, 0, sizeof *out);
    out->master = p.master_protocol;
    out->app = p.app_protocol;
    out->by_dpi = (p.master_protocol || p.app_protocol) && f->confidence == NDPI_CONFIDENCE_DPI;
    if (p.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
        out->name = ndpi_get_proto_name(nd, p.master_protocol);
        if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN && p.app_protocol != p.master_protocol)
            out->app_name = ndpi_get_proto_name(nd, p.app_protocol);
    } else {
        out->name = ndpi_get_proto_name(nd, p.app_protocol);
    }
    if (out->name == NULL)
        out->name = "Unknown";
    out->encrypted_proto = out->by_dpi && ndpi_is_encrypted_proto(nd, p);
    snprintf(out->host, sizeof out->host, "%s", (const char *)f->host_server_name);
}

bool classify_packet(struct classify_flow *cf, const uint8_t *l3, uint32_t len,
                     uint64_t ts_ns, bool to_server, struct classify_result *out)
{
    struct ndpi_flow_struct *f = (struct ndpi_flow_struct *)cf;
    /* nDPI takes a 16-bit length: a longer packet cannot be a real IP one */
    if (len == 0 || len > 65535)
        return false;
    f->packet_direction = to_server ? 0 : 1;
    ndpi_protocol p = ndpi_detection_process_packet(nd, f, l3, (unsigned short)len,
                                                    ts_ns / 1000000u);
    if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN)
        return false;
    /* Named: that is all we take from nDPI.  Its extra dissection (TLS
     * certificates, mail credentials) is done by our own detectors over
     * the reassembled stream, so feeding it more packets is wasted time. */
    classify_fill(f, p, out);
    return true;
}

void classify_giveup(struct classify_flow *cf, struct classify_result *out)
{
    struct ndpi_flow_struct *f = (struct ndpi_flow_struct *)cf;
    u_int8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(nd, f, 0, &guessed);
    classify_fill(f, p, out);
}

void classify_flow_free(struct classify_flow *cf)
{
    if (cf != NULL)
        ndpi_free_flow((struct ndpi_flow_struct *)cf);
}
