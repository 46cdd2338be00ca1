/*
 * core: errors, growable buffers, base64/hex, strict number parsing and
 * crash-safe file I/O. Every other module builds on this contract.
 *
 * Conventions used across bulwark:
 *  - Functions that can fail return 0 or a negative BW_E* code and, when
 *    given a non-NULL struct bw_err, fill in a message naming what failed.
 *  - A function that returns memory says who frees it.
 *  - *_free(NULL) is always a no-op.
 */
#ifndef BW_CORE_H
#define BW_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BW_VERSION "0.1.0"

/* Error codes (negative). */
enum {
	BW_OK = 0,
	BW_EINVAL = -1,   /* malformed input */
	BW_ENOMEM = -2,   /* allocation failed */
	BW_EIO = -3,      /* operating-system I/O failure */
	BW_EVERIFY = -4,  /* a signature, hash or proof did not verify */
	BW_ENOTFOUND = -5,/* a requested item does not exist */
	BW_ERANGE = -6,   /* a value or size is out of range */
	BW_ECRYPTO = -7,  /* the crypto library failed */
	BW_EEXIST = -8,   /* the item already exists */
	BW_ECORRUPT = -9, /* stored state is inconsistent */
	BW_EBUSY = -10,   /* resource locked by someone else */
	BW_EDENIED = -11, /* the caller may not do this */
	BW_ECONFLICT = -12, /* the item's state does not allow this now */
	BW_EGONE = -13,   /* the item existed and was deleted on purpose (retention) */
	BW_ENOTSUP = -14, /* well-formed, but beyond what is supported */
};

#define BW_ERR_MSG_MAX 512

struct bw_err {
	int code;
	char msg[BW_ERR_MSG_MAX];
};

/*
 * Records code and a printf-style message in err (if err is non-NULL).
 * Returns code, so callers can write `return bw_err_set(err, BW_EINVAL, ...)`.
 */
int bw_err_set(struct bw_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "<prefix>: " to the message already in err. Returns err->code. */
int bw_err_prefix(struct bw_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void bw_err_clear(struct bw_err *err);

/* Short stable name of an error code ("invalid input", ...). Never NULL. */
const char *bw_strerror(int code);

/* ---- growable byte buffer -------------------------------------------- */

/* A zero-initialised struct bw_buf is an empty, valid buffer. */
struct bw_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Ensures room for `extra` more bytes (plus a NUL). Returns 0 or BW_ENOMEM. */
int bw_buf_reserve(struct bw_buf *b, size_t extra);
/* Appends n bytes; data stays NUL-terminated. Returns 0 or BW_ENOMEM. */
int bw_buf_append(struct bw_buf *b, const void *p, size_t n);
int bw_buf_append_str(struct bw_buf *b, const char *s);
int bw_buf_append_byte(struct bw_buf *b, uint8_t c);
int bw_buf_printf(struct bw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Appends s (len bytes) as a JSON string literal, quotes included: '"', '\\'
 * and control characters escaped, each byte that is not part of valid UTF-8
 * (and a NUL) written as U+FFFD, so the result is always valid JSON text.
 * Returns 0 or BW_ENOMEM.
 */
int bw_buf_append_json_string(struct bw_buf *b, const char *s, size_t len);
/* Frees the storage and resets b to empty. */
void bw_buf_free(struct bw_buf *b);
/*
 * Hands the NUL-terminated contents to the caller (caller frees with free())
 * and resets b. Returns NULL only on allocation failure.
 */
char *bw_buf_take(struct bw_buf *b, size_t *len);

/* ---- gzip (gzip.c) ---------------------------------------------------- */

/* in (len bytes) as gzip into out (its old contents replaced). */
int bw_gzip(const void *in, size_t len, struct bw_buf *out, struct bw_err *err);
/*
 * Inflates one gzip member (in, len bytes) into out (replaced), at most max
 * bytes: BW_ERANGE past it, BW_EINVAL for data that is not gzip, damaged,
 * cut short or followed by other bytes.
 */
int bw_gunzip(const void *in, size_t len, size_t max, struct bw_buf *out, struct bw_err *err);

/* ---- encodings --------------------------------------------------------- */

/* Length of the padded standard base64 text for n bytes, without NUL. */
size_t bw_base64_len(size_t n);
/* Writes padded standard base64 of in[0..n) and a NUL to out (bw_base64_len(n)+1 bytes). */
void bw_base64_encode(char *out, const uint8_t *in, size_t n);
/*
 * Strict RFC 4648 §4 decoding: padding required, no whitespace, no
 * non-canonical trailing bits. Writes at most outcap bytes.
 * Returns 0, BW_EINVAL (not valid base64) or BW_ERANGE (does not fit).
 */
int bw_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen);

/* RFC 4648 base32 without padding (for otpauth URIs) of in[0..n) plus NUL; out has (8n+4)/5+1 bytes. */
void bw_base32_encode(char *out, const uint8_t *in, size_t n);

/* Lower-case hex of in[0..n) plus NUL into out (2n+1 bytes). */
void bw_hex_encode(char *out, const uint8_t *in, size_t n);
/* Exactly 2*outlen hex digits (either case) into out. Returns 0 or BW_EINVAL. */
int bw_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);

/*
 * Strict unsigned decimal: digits only, no sign, no leading zeros unless the
 * value is "0", no overflow. Returns 0, BW_EINVAL or BW_ERANGE.
 */
int bw_parse_u64(const char *s, size_t len, uint64_t *out);

/* ---- text ------------------------------------------------------------ */

/*
 * Decodes one UTF-8 sequence at s[0..len). Returns its length (1..4) and the
 * code point in *cp, or 0 when the bytes are not valid UTF-8 (overlong
 * forms, surrogates and values above U+10FFFF are invalid).
 */
size_t bw_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/*
 * True when s is a simple name: 1..max characters of a-z 0-9 . _ -, the
 * first a letter or digit (user, host, group and account names).
 */
bool bw_simple_name_valid(const char *s, size_t max);
/*
 * True when s is a plain mail address: LOCAL@DOMAIN, at most 254 bytes,
 * the local part 1..64 of RFC 5322's atom characters and dots (no quoted
 * forms, no leading, trailing or double dot), the domain two or more labels
 * of letters, digits and hyphens (no IP literals).
 */
bool bw_email_valid(const char *s);

/* True when cp is a Unicode white-space character (Go's unicode.IsSpace). */
bool bw_unicode_is_space(uint32_t cp);

/* ---- comma-separated lists (list.c) ----------------------------------- */

/* "a,b,c"; "" or NULL is the empty list; every comma separates two items (empty ones included). */
struct bw_list_iter {
	const char *p;
};

void bw_list_begin(struct bw_list_iter *it, const char *list);
/* The next item as [*item, *item + *len) (not NUL-terminated); false at the end. */
bool bw_list_next(struct bw_list_iter *it, const char **item, size_t *len);
/* True when name is one of list's items. */
bool bw_list_contains(const char *list, const char *name);
/*
 * Splits buf in place (commas become NULs) into at most cap items; returns
 * their number, or cap + 1 when there are more (nothing is dropped silently).
 */
size_t bw_list_split(char *buf, const char **items, size_t cap);

/* ---- client addresses (addr.c) ----------------------------------------- */

#define BW_ADDR_GROUP_MAX 48
/*
 * The group a client address counts in for per-client limits: an IPv4
 * address itself (also when IPv4-mapped), an IPv6 address's /64
 * ("2001:db8:1:2::/64"), "?" for anything else.
 */
void bw_addr_group(const char *addr, char *out, size_t cap);

/* ---- time ------------------------------------------------------------- */

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t bw_now_ms(void);
/* The wall-clock time ms milliseconds from now, for pthread_cond_timedwait. */
struct timespec bw_deadline_ms(int64_t ms);

#define BW_TIME_TEXT_MAX 32
/* "2026-11-27T22:25:05.123Z": RFC 3339 UTC with milliseconds, without locks (years 0..9999). */
void bw_time_format_ms(int64_t ms, char out[BW_TIME_TEXT_MAX]);
/*
 * Parses an RFC 3339 UTC time of len bytes ("2026-11-27T22:25:05Z", any
 * number of fraction digits, milliseconds kept) into *out: true, or false
 * when it is not one (offsets other than Z are not accepted).
 */
bool bw_time_parse_ms(const char *s, size_t len, int64_t *out);

/* ---- files ------------------------------------------------------------- */

/*
 * Reads the whole file at path (at most max bytes; larger is BW_ERANGE) into
 * a NUL-terminated malloc'd buffer. Caller frees *out with free().
 */
int bw_file_read(const char *path, size_t max, uint8_t **out, size_t *len, struct bw_err *err);

/*
 * Creates path, which must not exist (BW_EEXIST) and is never followed if
 * it is a symbolic link, with exactly mode (umask does not apply), writes
 * data, fsyncs the file and its directory. On any failure the file is
 * removed: it exists afterwards only complete and durable.
 */
int bw_file_create_new(const char *path, const void *data, size_t len, unsigned mode, struct bw_err *err);
/* bw_file_create_new with mode 0600: key files, tokens, anything secret. */
int bw_file_create_secret(const char *path, const void *data, size_t len, struct bw_err *err);

/*
 * Atomically replaces path with data: writes path.tmp (given mode), fsyncs
 * it, renames it over path and fsyncs the directory. After a crash, path
 * holds either the old or the new contents, never a mix.
 */
int bw_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
			 struct bw_err *err);

/* fsyncs the directory that contains path (or the directory itself when is_dir). */
int bw_fsync_dir(const char *path, bool is_dir, struct bw_err *err);

/* Writes all n bytes to fd, retrying on EINTR and short writes. Returns 0 or BW_EIO (errno set). */
int bw_write_all(int fd, const void *p, size_t n);
/* bw_write_all for a socket: send() without SIGPIPE when the other end is gone. */
int bw_send_all(int fd, const void *p, size_t n);
/* Reads exactly n bytes from fd, retrying on EINTR and short reads. Returns 0, or BW_EIO on an error or end of file first. */
int bw_read_all(int fd, void *p, size_t n);

/* Creates dir and any missing parents with mode. Returns 0 or BW_EIO. */
int bw_mkdir_p(const char *dir, unsigned mode, struct bw_err *err);

/* ---- QR codes (qr.c, libqrencode) ---- */

/* The modules of text's QR code (error correction M), row by row, 1 dark: *width squared bytes (caller frees). */
int bw_qr_modules(const char *text, uint8_t **out, int *width, struct bw_err *err);

#endif /* BW_CORE_H */
