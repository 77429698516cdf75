package ridecode

import (
	qrcode "github.com/skip2/go-qrcode"

	"piao/internal/fault"
)

// QRLevel is the error correction level of ride code images: Medium (15 %)
// survives a cracked screen or a scuffed paper ticket at a modest size.
const QRLevel = qrcode.Medium

// QR returns the QR symbol of a code's text; the upper-case base32 text is
// stored in alphanumeric mode.
func QR(text string) (*qrcode.QRCode, error) {
	q, err := qrcode.New(text, QRLevel)
	if err != nil {
		return nil, fault.Wrap(err, "ride code QR")
	}
	return q, nil
}

// PNG renders a code's text as a QR code PNG image of size×size pixels
// (a negative size sets the pixels per module instead, as go-qrcode does).
func PNG(text string, size int) ([]byte, error) {
	q, err := QR(text)
	if err != nil {
		return nil, err
	}
	b, err := q.PNG(size)
	if err != nil {
		return nil, fault.Wrap(err, "ride code PNG")
	}
	return b, nil
}
