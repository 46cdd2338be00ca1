/*
 * server/web.c: the minimal sign-in page served at "/" (HTML + script from
 * this server only, strict CSP): password + authenticator code, then shows
 * who you are. The full dashboard builds on the same JSON API.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const char index_html[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>bulwark</title>\n"
    "<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;font-size:1rem}"
    "button{margin-top:1rem;padding:.5rem 1.5rem;font-size:1rem}#out{margin-top:1.5rem;white-space:pre-wrap}"
    "</style></head><body>\n"
    "<h1>bulwark</h1>\n"
    "<form id=\"login\">\n"
    "<label for=\"u\">User name</label><input id=\"u\" autocomplete=\"username\" required>\n"
    "<label for=\"p\">Password</label><input id=\"p\" type=\"password\" autocomplete=\"current-password\" required>\n"
    "<label for=\"o\">Authenticator code (or a recovery code)</label>"
    "<input id=\"o\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required>\n"
    "<button type=\"submit\">Sign in</button></form>\n"
    "<div id=\"out\" role=\"status\"></div>\n"
    "<script src=\"/app.js\"></script>\n</body></html>\n";

static const char app_js[] =
    "'use strict';\n"
    "const out = document.getElementById('out');\n"
    "async function me() {\n"
    "  const r = await fetch('/api/v1/me', {credentials: 'same-origin'});\n"
    "  if (r.ok) { const j = await r.json(); out.textContent = 'Signed in as ' + j.username +\n"
    "    ' (roles: ' + j.roles.join(', ') + ')'; document.getElementById('login').hidden = true; }\n"
    "}\n"
    "document.getElementById('login').addEventListener('submit', async (e) => {\n"
    "  e.preventDefault();\n"
    "  const body = {username: document.getElementById('u').value,\n"
    "    password: document.getElementById('p').value, otp: document.getElementById('o').value.trim()};\n"
    "  const r = await fetch('/api/v1/login', {method: 'POST', credentials: 'same-origin',\n"
    "    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});\n"
    "  const j = await r.json();\n"
    "  if (r.ok) { await me(); } else { out.textContent = j.error; }\n"
    "});\n"
    "me();\n";

static void
serve_static(struct request *rq, const char *type, const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	reply_text(rq, 200, type, copy, strlen(copy));
}

static void
h_index(struct request *rq, json_t *body)
{
	(void)body;
	serve_static(rq, "text/html; charset=utf-8", index_html);
}

static void
h_app_js(struct request *rq, json_t *body)
{
	(void)body;
	serve_static(rq, "text/javascript; charset=utf-8", app_js);
}

static const struct route web_routes[] = {
	{ .method = "GET", .pattern = "/", .fn = h_index, .op = OP_WEB_INDEX },
	{ .method = "GET", .pattern = "/app.js", .fn = h_app_js, .op = OP_WEB_APP },
};
const struct route_table web_route_table = { web_routes, sizeof web_routes / sizeof web_routes[0] };
