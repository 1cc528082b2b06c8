package valkey

import "gridbot/store/valuecodec"

// ExpandStored returns a stored value as its plain JSON — a compressed case,
// marks or log entry expanded — so that a test searching the server's
// contents for personal data sees what compression would hide from it.
func ExpandStored(raw []byte) []byte {
	if len(raw) > 1 && raw[0] == '[' {
		if plain, err := valuecodec.ExpandEntry(string(raw)); err == nil {
			return plain
		}
	}
	return valuecodec.Expand(raw)
}
