/*
 * stats.c - the global counters (see stats.h).
 */
#include "stats.h"

#include <stddef.h>

struct stats g_stats;

static const char *const stats_names[] = {
#define STATS_NAME(name) #name,
    STATS_FIELDS(STATS_NAME)
#undef STATS_NAME
};

unsigned stats_count(void)
{
    return (unsigned)(sizeof stats_names / sizeof stats_names[0]);
}

const char *stats_name(unsigned i)
{
    return i < stats_count() ? stats_names[i] : NULL;
}

uint64_t stats_value(unsigned i)
{
    const uint64_t *v = (const uint64_t *)&g_stats;
    return i < stats_count() ? v[i] : 0;
}

bool stats_incomplete(void)
{
    return g_stats.flows_evicted || g_stats.reasm_ooo_cap || g_stats.reasm_memcap ||
           g_stats.reasm_pending_cap || g_stats.findings_dropped ||
           g_stats.services_dropped;
}
