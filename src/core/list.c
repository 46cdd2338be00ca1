/*
 * core/list.c: comma-separated lists, the one way bulwark stores and reads
 * them ("a,b,c"; "" is the empty list). Every comma separates two items, so
 * "a,,b" and "a," hold an empty item: nothing is skipped, and a malformed
 * list shows up as an empty item that validation refuses instead of being
 * silently shortened.
 */
#include <string.h>

#include "core.h"

void
bw_list_begin(struct bw_list_iter *it, const char *list)
{
	it->p = list != NULL && *list != '\0' ? list : NULL;
}

bool
bw_list_next(struct bw_list_iter *it, const char **item, size_t *len)
{
	const char *comma;

	if (it->p == NULL)
		return false;
	comma = strchr(it->p, ',');
	*item = it->p;
	*len = comma != NULL ? (size_t)(comma - it->p) : strlen(it->p);
	it->p = comma != NULL ? comma + 1 : NULL;
	return true;
}

bool
bw_list_contains(const char *list, const char *name)
{
	struct bw_list_iter it;
	const char *item;
	size_t len, n = strlen(name);

	bw_list_begin(&it, list);
	while (bw_list_next(&it, &item, &len))
		if (len == n && memcmp(item, name, n) == 0)
			return true;
	return false;
}

size_t
bw_list_split(char *buf, const char **items, size_t cap)
{
	struct bw_list_iter it;
	const char *item;
	size_t len, n = 0;

	bw_list_begin(&it, buf);
	while (bw_list_next(&it, &item, &len)) {
		if (n == cap)
			return cap + 1;	/* more than cap: the caller refuses */
		items[n++] = item;
		buf[(size_t)(item - buf) + len] = '\0';	/* the comma (already passed) or the NUL */
	}
	return n;
}
