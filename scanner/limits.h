/*
 * limits.h - every cap and timeout of the scanner, in one place.
 *
 * Memory must stay bounded whatever the input: a capture can hold millions
 * of flows, a flow can carry gigabytes, an attacker can send nothing but
 * out-of-order segments.  Each value below bounds one thing; each has a
 * counter in scanner/stats.h, and hitting a cap makes the scan incomplete
 * (it is reported, never silent).
 */
#ifndef LEAKSCAN_LIMITS_H
#define LEAKSCAN_LIMITS_H

/* Flows tracked at once.  About 300 B of our own state per flow plus nDPI's
 * while it classifies (1-9 KiB, freed once decided): 131072 flows stay well
 * under 256 MiB even in the worst case.  The oldest idle flow is evicted
 * (and reported) when a new one would exceed the cap. */
#define FLOW_MAX                131072u

/* Idle timeouts, in seconds of capture time.  TCP follows Zeek's default
 * inactivity timeout; a closed TCP flow lingers briefly for the last ACKs
 * and retransmissions; UDP "sessions" are short. */
#define FLOW_TCP_IDLE_S         300u
#define FLOW_TCP_CLOSED_S       5u
#define FLOW_UDP_IDLE_S         60u
/* How often (capture time) the idle list is swept. */
#define FLOW_SWEEP_INTERVAL_S   1u

/* TCP reassembly.  Out-of-order data waiting for a hole to fill, per
 * direction: a real stack's window rarely exceeds this on a LAN capture,
 * and past it the hole is declared lost (a gap) rather than grown. */
#define REASM_MAX_OOO_BYTES     (256u * 1024u)
/* Out-of-order segments held per direction (bounds list walks). */
#define REASM_MAX_OOO_SEGS      512u
/* Bytes a detector has seen but not consumed yet (an incomplete message
 * it waits to complete).  A message larger than this is cut by a gap. */
#define REASM_MAX_PENDING       (128u * 1024u)
/* All reassembly buffers together.  Past it, new out-of-order data is
 * dropped as a gap and counted. */
#define REASM_MEMCAP            (96u * 1024u * 1024u)

/* Freed objects kept for reuse instead of going back to malloc: ended
 * flows (about 2 KiB each), and detector states per state size (up to 32
 * sizes).  At most 8 MiB + 256 states of each size stay allocated. */
#define FLOW_SPARE_MAX          4096u
#define STATE_POOL_MAX          256u
#define STATE_POOL_SIZES        32u

/* Stream bytes held per direction before the flow's protocol is decided and
 * detectors attach; they are then replayed to the detectors. */
#define CLASSIFY_HOLD_BYTES     (16u * 1024u)
/* nDPI gets this many payload packets before we give up on a flow. */
#define CLASSIFY_MAX_TCP_PKTS   30u
#define CLASSIFY_MAX_UDP_PKTS   10u

/* IPv4 fragment reassembly: datagrams in progress, their size, lifetime. */
#define FRAG_MAX_DATAGRAMS      1024u
#define FRAG_MAX_SIZE           65535u
#define FRAG_TIMEOUT_S          30u
#define FRAG_MAX_PIECES         128u

/* Tunnel nesting (GRE in VXLAN in GRE...): deeper is treated as garbage. */
#define DECODE_MAX_DEPTH        4u

/* Findings: distinct (rule, server) pairs, samples kept per finding, client
 * addresses listed per finding (the rest are counted). */
#define FINDINGS_MAX            20000u
#define FINDING_MAX_SAMPLES     3u
#define FINDING_MAX_CLIENTS     16u
/* Services (server endpoints) in the inventory. */
#define SERVICES_MAX            65536u
#define SERVICE_MAX_CLIENTS     16u
/* Services that keep TLS details (versions, ciphers, certificates: about
 * 6 KiB each); past it the details are counted, not kept. */
#define SERVICES_TLS_MAX        8192u
/* Findings one flow remembers having fed (to count flows per finding): as
 * many as the rules one protocol and the secrets scanner can raise together
 * (HTTP's ten and the scanner's six). */
#define FLOW_MAX_FINDINGS       16u

/* Evidence excerpts: longest text kept for a non-secret value. */
#define EVIDENCE_MAX_TEXT       160u

/* Live capture defaults. */
#define LIVE_SNAPLEN            262144
#define LIVE_BUFFER_BYTES       (64 * 1024 * 1024)
#define LIVE_TIMEOUT_MS         100

#endif
