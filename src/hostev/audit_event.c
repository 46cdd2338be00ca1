/* One auditd event (all records of a serial): built from libauparse's view, looked up, freed. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <auparse.h>

#include "hostev/hostev_internal.h"

const char *
hostev_record_get(const struct hostev_record *rec, const char *name)
{
	size_t i;

	for (i = 0; i < rec->nfields; i++)
		if (strcmp(rec->fields[i].name, name) == 0)
			return rec->fields[i].value;
	return NULL;
}

const struct hostev_record *
hostev_audit_find(const struct hostev_audit_event *ev, const char *type)
{
	size_t i;

	for (i = 0; i < ev->nrecords; i++)
		if (strcmp(ev->records[i].type, type) == 0)
			return &ev->records[i];
	return NULL;
}

static void
record_clear(struct hostev_record *rec)
{
	size_t i;

	for (i = 0; i < rec->nfields; i++) {
		free(rec->fields[i].name);
		free(rec->fields[i].value);
	}
	free(rec->fields);
	free(rec->type);
	free(rec->text);
}

void
hostev_audit_event_clear(struct hostev_audit_event *ev)
{
	size_t i;

	for (i = 0; i < ev->nrecords; i++)
		record_clear(&ev->records[i]);
	free(ev->records);
	free(ev->node);
	memset(ev, 0, sizeof *ev);
}

/* Appends name=value (copies, value of vlen bytes) to rec. */
static int
add_field(struct hostev_record *rec, size_t *cap, const char *name, const char *value, size_t vlen)
{
	struct hostev_field *f;

	if (rec->nfields == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct hostev_field *nf = realloc(rec->fields, ncap * sizeof *nf);
		if (nf == NULL)
			return BW_ENOMEM;
		rec->fields = nf;
		*cap = ncap;
	}
	f = &rec->fields[rec->nfields];
	f->name = strdup(name);
	f->value = malloc(vlen + 1);
	if (f->name == NULL || f->value == NULL) {
		free(f->name);
		free(f->value);
		return BW_ENOMEM;
	}
	memcpy(f->value, value, vlen);
	f->value[vlen] = '\0';
	rec->nfields++;
	return 0;
}

/* Appends value to the last field (an argument split into aN[0], aN[1]...). */
static int
extend_last(struct hostev_record *rec, const char *value)
{
	struct hostev_field *f = &rec->fields[rec->nfields - 1];
	size_t a = strlen(f->value), b = strlen(value);
	char *nv = realloc(f->value, a + b + 1);

	if (nv == NULL)
		return BW_ENOMEM;
	memcpy(nv + a, value, b + 1);
	f->value = nv;
	return 0;
}

/* "aN[K]": sets base to "aN". "aN_len": *len_field. */
static bool
split_arg(const char *name, char *base, size_t cap, bool *len_field)
{
	size_t i = 1;

	*len_field = false;
	if (name[0] != 'a' || name[1] < '0' || name[1] > '9')
		return false;
	while (name[i] >= '0' && name[i] <= '9')
		i++;
	if (strcmp(name + i, "_len") == 0) {
		*len_field = true;
		return false;
	}
	if (name[i] != '[' || i + 1 > cap)
		return false;
	memcpy(base, name, i);
	base[i] = '\0';
	return true;
}

static bool
decoded_type(int t)
{
	return t == AUPARSE_TYPE_ESCAPED || t == AUPARSE_TYPE_ESCAPED_KEY || t == AUPARSE_TYPE_ESCAPED_FILE ||
	       t == AUPARSE_TYPE_PROCTITLE;
}

static bool
is_hex_text(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'A' && s[n] <= 'F') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n % 2 == 0;
}

/*
 * Is raw written as auditd writes a value of type t ("quoted", (null),
 * even-length hex)? libauparse's decoders read past their buffers on other
 * shapes, so only these are handed to them; the rest stay as written.
 */
static bool
interpretable(int t, const char *raw)
{
	size_t n = strlen(raw);

	if (t == AUPARSE_TYPE_SOCKADDR)
		return n > 0 && is_hex_text(raw);
	if (!decoded_type(t))
		return true;
	if (n >= 2 && raw[0] == '"')
		return raw[n - 1] == '"' && memchr(raw + 1, '"', n - 2) == NULL;
	if (strcmp(raw, "(null)") == 0 || strcmp(raw, "(none)") == 0)
		return true;
	return n > 0 && is_hex_text(raw);
}

/*
 * The record's own interpretations ("ARCH=x86_64 UID=\"alice\" SADDR={ ... }")
 * as upper-case fields.
 */
static int
add_interpretations(struct hostev_record *rec, size_t *cap, const char *s)
{
	char name[64];

	while (s != NULL && *s != '\0') {
		const char *eq, *v, *end;
		size_t nl;

		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		eq = strchr(s, '=');
		if (eq == NULL)
			break;
		nl = (size_t)(eq - s);
		v = eq + 1;
		if (*v == '"') {
			v++;
			end = strchr(v, '"');
		} else if (*v == '{') {
			end = strchr(v, '}');
			if (end != NULL)
				end++;
		} else {
			end = strchr(v, ' ');
		}
		if (end == NULL)
			end = v + strlen(v);
		if (nl > 0 && nl < sizeof name && memchr(s, ' ', nl) == NULL) {
			memcpy(name, s, nl);
			name[nl] = '\0';
			if (hostev_record_get(rec, name) == NULL && add_field(rec, cap, name, v, (size_t)(end - v)) != 0)
				return BW_ENOMEM;
		}
		s = *end == '"' ? end + 1 : end;
	}
	return 0;
}

static int
add_interpreted(struct hostev_record *rec, size_t *cap, const char *name, const char *value)
{
	if (value == NULL || hostev_record_get(rec, name) != NULL)
		return 0;
	return add_field(rec, cap, name, value, strlen(value));
}

/* The record libauparse is positioned at, into rec. */
static int
record_build(auparse_state_t *au, struct hostev_record *rec)
{
	const char *type = auparse_get_type_name(au), *text = auparse_get_record_text(au);
	char syscall[64] = "", arch[64] = "", saddr[256] = "", fam[32] = "", addr[64] = "", port[16] = "";
	size_t cap = 0;
	int rc;

	memset(rec, 0, sizeof *rec);
	rec->type = strdup(type != NULL ? type : "UNKNOWN");
	rec->text = strdup(text != NULL ? text : "");
	if (rec->type == NULL || rec->text == NULL)
		return BW_ENOMEM;
	if (auparse_first_field(au) > 0) {
		do {
			const char *name = auparse_get_field_name(au), *raw = auparse_get_field_str(au);
			int t = auparse_get_field_type(au);
			char base[16];
			bool len_field;
			const char *v = raw;
			size_t vlen;

			if (name == NULL || raw == NULL || strcmp(name, "type") == 0 || strcmp(name, "node") == 0)
				continue;
			if ((decoded_type(t) || t == AUPARSE_TYPE_SYSCALL || t == AUPARSE_TYPE_ARCH ||
			     t == AUPARSE_TYPE_SOCKADDR) &&
			    interpretable(t, raw)) {
				const char *in = auparse_interpret_field(au);
				if (decoded_type(t))
					v = in != NULL ? in : raw;
				else if (in != NULL)
					snprintf(t == AUPARSE_TYPE_SYSCALL ? syscall
						 : t == AUPARSE_TYPE_ARCH  ? arch
									   : saddr,
						 t == AUPARSE_TYPE_SOCKADDR ? sizeof saddr : sizeof syscall, "%s", in);
				if (t == AUPARSE_TYPE_SOCKADDR) {
					/* each interpretation is valid only until the next one: copy at once */
					const char *x = auparse_interpret_sock_family(au);
					snprintf(fam, sizeof fam, "%s", x ? x : "");
					x = auparse_interpret_sock_address(au);
					snprintf(addr, sizeof addr, "%s", x ? x : "");
					x = auparse_interpret_sock_port(au);
					snprintf(port, sizeof port, "%s", x ? x : "");
				}
			}
			vlen = strlen(v);
			if (v == raw && vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (strcmp(rec->type, "EXECVE") == 0 && split_arg(name, base, sizeof base, &len_field)) {
				if (rec->nfields > 0 && strcmp(rec->fields[rec->nfields - 1].name, base) == 0)
					rc = extend_last(rec, v);
				else
					rc = add_field(rec, &cap, base, v, vlen);
			} else if (strcmp(rec->type, "EXECVE") == 0 && (split_arg(name, base, sizeof base, &len_field),
									 len_field)) {
				rc = 0;
			} else {
				rc = add_field(rec, &cap, name, v, vlen);
			}
			if (rc != 0)
				return rc;
		} while (auparse_next_field(au) > 0);
	}
	if (add_interpretations(rec, &cap, auparse_get_record_interpretations(au)) != 0 ||
	    add_interpreted(rec, &cap, "SYSCALL", syscall[0] ? syscall : NULL) != 0 ||
	    add_interpreted(rec, &cap, "ARCH", arch[0] ? arch : NULL) != 0 ||
	    add_interpreted(rec, &cap, "SADDR", saddr[0] ? saddr : NULL) != 0 ||
	    add_interpreted(rec, &cap, "saddr_fam", fam[0] ? fam : NULL) != 0 ||
	    add_interpreted(rec, &cap, "laddr", addr[0] ? addr : NULL) != 0 ||
	    add_interpreted(rec, &cap, "lport", port[0] ? port : NULL) != 0)
		return BW_ENOMEM;
	return 0;
}

int
hostev_audit_event_build(auparse_state_t *au, struct hostev_audit_event *ev)
{
	unsigned n = auparse_get_num_records(au);
	char *node;

	memset(ev, 0, sizeof *ev);
	node = (char *)auparse_get_node(au);	/* a copy the caller frees */
	ev->node = strdup(node != NULL ? node : "");
	free(node);
	ev->time_ms = (int64_t)auparse_get_time(au) * 1000 + auparse_get_milli(au);
	ev->serial = auparse_get_serial(au);
	if (ev->node == NULL || (n > 0 && (ev->records = calloc(n, sizeof *ev->records)) == NULL))
		goto oom;
	if (n > 0 && auparse_first_record(au) > 0) {
		do {
			if (ev->nrecords == n)
				break;
			if (record_build(au, &ev->records[ev->nrecords++]) != 0)
				goto oom;
		} while (auparse_next_record(au) > 0);
	}
	return 0;
oom:
	hostev_audit_event_clear(ev);
	return BW_ENOMEM;
}
