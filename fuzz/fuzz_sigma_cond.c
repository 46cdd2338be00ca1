/*
 * Fuzzes the Sigma condition parser over a fixed set of search
 * identifiers. Properties: no crash, no leak, bounded recursion; a refusal
 * says why; a parsed condition evaluates against an event.
 */
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct expr leaf = { .kind = E_AND };	/* an empty AND: always true */
	static const struct search_id ids[] = {
		{ "selection", &leaf }, { "selection_img", &leaf }, { "selection_cli_1", &leaf },
		{ "filter_main", &leaf }, { "filter_optional_x", &leaf }, { "_hidden", &leaf }, { "keywords", &leaf },
	};
	struct detect_event ev = { 0 };
	struct expr *e = NULL;
	struct bw_err err = { 0 };
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cond_parse(text, ids, sizeof ids / sizeof ids[0], "fuzz.yml:1", &e, &err) != 0) {
		if (err.msg[0] == '\0' || e != NULL)
			abort();
	} else {
		struct ev_index x;
		if (ev_index_build(&x, &ev) == 0) {
			(void)expr_eval(e, &x);
			ev_index_clear(&x);
		}
		expr_free(e);
	}
	free(text);
	return 0;
}
