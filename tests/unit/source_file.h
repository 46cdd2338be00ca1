/* tests/unit/source_file.h: reads a file of the source tree (docs, README) for tests that keep them in step. */
#ifndef BW_TEST_SOURCE_FILE_H
#define BW_TEST_SOURCE_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* BW_SOURCE_DIR/rel as a NUL-terminated string (caller frees); NULL when it cannot be read. */
static inline char *
read_source_file(const char *rel)
{
	char path[4096], *doc = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/%s", BW_SOURCE_DIR, rel);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (doc = calloc(1, (size_t)n + 1)) != NULL && fread(doc, 1, (size_t)n, f) != (size_t)n) {
		free(doc);
		doc = NULL;
	}
	fclose(f);
	return doc;
}

#endif
