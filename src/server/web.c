/*
 * server/web.c: the dashboard (web/, compiled in): the page at "/" and its
 * ES modules and style at /ui/NAME, from this server only, under a strict
 * Content-Security-Policy (no inline script or style, no other origin). The
 * page calls the same JSON API as the CLI.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const char *
type_of(const char *name)
{
	size_t n = strlen(name);

	if (n > 3 && strcmp(name + n - 3, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (n > 4 && strcmp(name + n - 4, ".css") == 0)
		return "text/css; charset=utf-8";
	if (n > 5 && strcmp(name + n - 5, ".html") == 0)
		return "text/html; charset=utf-8";
	return "application/octet-stream";
}

static void
serve_file(struct request *rq, const struct web_file *f)
{
	char *copy = malloc(f->len + 1);

	if (copy == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	memcpy(copy, f->text, f->len + 1);
	reply_text(rq, 200, type_of(f->name), copy, f->len);
}

static void
h_index(struct request *rq, json_t *body)
{
	(void)body;
	serve_file(rq, &web_page[0]);
}

/* GET /ui/NAME: one of the compiled-in files (a name is matched whole: no paths). */
static void
h_ui(struct request *rq, json_t *body)
{
	size_t i;

	(void)body;
	for (i = 0; web_files[i].name != NULL; i++)
		if (strcmp(rq->path + 1, web_files[i].name) == 0) {
			serve_file(rq, &web_files[i]);
			return;
		}
	reply_error(rq, 404, "no such file");
}

static const struct route web_routes[] = {
	{ .method = "GET", .pattern = "/", .fn = h_index, .op = OP_WEB_INDEX },
	{ .method = "GET", .pattern = "/ui/*", .fn = h_ui, .op = OP_WEB_APP },
};
const struct route_table web_route_table = { web_routes, sizeof web_routes / sizeof web_routes[0] };
