/* core/qr.c: a QR code's modules (libqrencode), for the terminal and for the dashboard alike. */
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "core.h"

int
bw_qr_modules(const char *text, uint8_t **out, int *width, struct bw_err *err)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int i, n;

	*out = NULL;
	*width = 0;
	if (qr == NULL)
		return bw_err_set(err, BW_EINVAL, "the text does not fit a QR code");
	n = qr->width * qr->width;
	if ((*out = malloc((size_t)n)) == NULL) {
		QRcode_free(qr);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		(*out)[i] = qr->data[i] & 1;
	*width = qr->width;
	QRcode_free(qr);
	return 0;
}
