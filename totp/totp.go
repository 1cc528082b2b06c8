// Package totp is the console's second factor: time-based one-time codes
// (RFC 6238: six digits, 30-second steps, SHA-1, what every authenticator
// app reads from a QR code), wrapping github.com/pquerna/otp, and the
// recovery codes that stand in for a lost phone.
package totp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Step is how long one code lasts.
const Step = 30 * time.Second

// Key is a new secret for account, with the otpauth:// URL an
// authenticator app reads.
type Key struct {
	Secret string // base32, what a person types when they cannot scan
	URL    string
}

// NewKey makes a random secret (160 bits) for account at issuer.
func NewKey(issuer, account string) (Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, SecretSize: 20})
	if err != nil {
		return Key{}, fmt.Errorf("totp key: %w", err)
	}
	return Key{Secret: k.Secret(), URL: k.URL()}, nil
}

// QR draws the key's URL as a PNG QR code, size pixels square.
func QR(url string, size int) ([]byte, error) {
	k, err := otp.NewKeyFromURL(url)
	if err != nil {
		return nil, fmt.Errorf("totp qr: %w", err)
	}
	img, err := k.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("totp qr: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("totp qr: %w", err)
	}
	return b.Bytes(), nil
}

// Code is the code of secret at t (for tests and the demo).
func Code(secret string, t time.Time) (string, error) {
	c, err := totp.GenerateCode(secret, t)
	if err != nil {
		return "", fmt.Errorf("totp code: %w", err)
	}
	return c, nil
}

// Check reports whether code is secret's code at t or one step either
// side (a phone's clock a little off), and which step it is: the caller
// refuses a step already used, so a code seen over a shoulder or in a
// proxy's log cannot be used again.
func Check(secret, code string, t time.Time) (step int64, ok bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	now := t.Unix() / int64(Step/time.Second)
	for d := int64(-1); d <= 1; d++ {
		at := time.Unix((now+d)*int64(Step/time.Second), 0)
		want, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: uint(Step / time.Second),
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return now + d, true
		}
	}
	return 0, false
}

// recoveryAlphabet has no letters that are misread for others.
const recoveryAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// RecoveryCodes makes n one-time recovery codes (XXXXX-XXXXX, 50 bits
// each) and their hashes, which are what is kept.
func RecoveryCodes(n int) (codes, hashes []string, err error) {
	for range n {
		raw := make([]byte, 10)
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, fmt.Errorf("recovery codes: %w", err)
		}
		var b strings.Builder
		for i, c := range raw {
			if i == 5 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, HashRecovery(b.String()))
	}
	return codes, hashes, nil
}

// HashRecovery is the kept form of a recovery code, however it was typed
// (case, dash, spaces).
func HashRecovery(code string) string {
	norm := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte("gridbot-recovery\x00" + norm))
	return hex.EncodeToString(sum[:])
}

// LooksLikeRecovery reports whether code is shaped as a recovery code
// rather than a six-digit one.
func LooksLikeRecovery(code string) bool {
	return len(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code))) == 10
}
