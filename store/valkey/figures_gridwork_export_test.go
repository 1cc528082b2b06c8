package valkey

import "gridbot/core"

// DecodeCase and EncodeCase let the external tests write a case's marks as
// an older gridbot left them.
func DecodeCase(raw []byte, c *core.Case) (*core.FigureMarks, error) { return decodeCase(raw, c) }
func EncodeCase(c *core.Case, m *core.FigureMarks) ([]byte, error)   { return encodeCase(c, m) }
