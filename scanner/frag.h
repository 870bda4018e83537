/*
 * frag.h - IPv4 fragment reassembly, bounded (RFC 791, with the overlap
 * handling of RFC 5722 applied to IPv4: overlapping fragments drop the
 * datagram, since no honest sender produces them).
 */
#ifndef LEAKSCAN_FRAG_H
#define LEAKSCAN_FRAG_H

#include <stdint.h>

/* Offers one IPv4 fragment (hdr points at its IPv4 header, len bytes of
 * header + fragment data captured).  Returns the length of the rebuilt
 * datagram (header + data) and points *out at it when this fragment
 * completes one; 0 otherwise.  The buffer is owned by frag.c and valid
 * until the next call. */
uint32_t frag_add(const uint8_t *hdr, uint32_t len, uint64_t ts_ns, const uint8_t **out);

void frag_free(void);

#endif
