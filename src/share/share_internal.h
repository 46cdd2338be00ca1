/* share/share_internal.h: what the exporters share: ids and which indicators may leave. */
#ifndef BW_SHARE_INTERNAL_H
#define BW_SHARE_INTERNAL_H

#include "share.h"

/*
 * May indicator (type, value) leave? Not the organisation's own addresses,
 * domains or URLs; a URL goes without its recipient tokens. *out receives
 * the value to share.
 */
bool share_indicator_ok(const struct share_lure *l, const char *type, const char *value, char *out, size_t cap);
/* MISP's tlp taxonomy tag of a TLP 2.0 level ("tlp:amber+strict"). */
const char *tlp_tag(const char *tlp);

#endif
