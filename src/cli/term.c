/* cli/term.c: terminal helpers: secret prompts and QR codes drawn in text. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>


#include "cli.h"
#include "crypto/crypto.h"

int
cli_prompt_secret(const char *prompt, char *out, size_t cap)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), r = -1;
	ssize_t n;
	size_t len = 0;
	char c;

	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &old) != 0)
		goto out;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		goto out;
	while ((n = read(fd, &c, 1)) == 1 && c != '\n')
		if (len + 1 < cap)
			out[len++] = c;
	out[len] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		goto out;
	r = n == 1 ? 0 : -1;
out:
	close(fd);
	return r;
}

int
cli_secret(const char *env, const char *prompt, bool confirm, char *out, size_t cap)
{
	const char *v = getenv(env);
	char again[1100];

	if (v != NULL) {
		if (strlen(v) >= cap)
			return -1;
		strcpy(out, v);
		return 0;
	}
	if (cli_prompt_secret(prompt, out, cap) != 0)
		return -1;
	if (confirm) {
		if (cli_prompt_secret("again: ", again, sizeof again) != 0 || strcmp(again, out) != 0) {
			bw_memzero(again, sizeof again);
			cli_errorf("the two entries differ");
			return -1;
		}
		bw_memzero(again, sizeof again);
	}
	return 0;
}

void
cli_print_qr(FILE *f, const char *text)
{
	struct bw_err err = { 0 };
	uint8_t *m = NULL;
	int x, y, w, q = 2;

	if (bw_qr_modules(text, &m, &w, &err) != 0) {
		fprintf(f, "(QR code unavailable)\n");
		return;
	}
	/* Two module rows per text line, dark modules as blocks, with a quiet zone. */
	for (y = -q; y < w + q; y += 2) {
		for (x = -q; x < w + q; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w && m[y * w + x];
			int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && m[(y + 1) * w + x];
			/* Light background: print the light modules as blocks (works on dark terminals). */
			fputs(!top && !bot ? "\xe2\x96\x88" : !top ? "\xe2\x96\x80" : !bot ? "\xe2\x96\x84" : " ", f);
		}
		fputc('\n', f);
	}
	free(m);
}
