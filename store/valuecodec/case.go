package valuecodec

import (
	"bytes"
	"errors"
)

// PackCaseWithMarks is the packed value of a case's JSON and its figure
// marks' JSON together: one value, so a case costs one key (or record)
// rather than two.
func PackCaseWithMarks(caseJSON, marksJSON []byte) ([]byte, error) {
	both := make([]byte, 0, len(caseJSON)+1+len(marksJSON))
	both = append(append(append(both, caseJSON...), '\n'), marksJSON...)
	return CaseWithMarks2.Pack(both)
}

// SplitCase returns the JSON of a packed case and of the figure marks
// packed with it (nil when it was packed alone, or is plain JSON).
func SplitCase(raw []byte) (caseJSON, marksJSON []byte, err error) {
	if len(raw) > 0 && (raw[0] == CaseWithMarks2.tag || raw[0] == CaseWithMarks.tag) {
		c := CaseWithMarks2
		if raw[0] == CaseWithMarks.tag {
			c = CaseWithMarks
		}
		both, err := c.Unpack(raw)
		if err != nil {
			return nil, nil, err
		}
		plain, marks, ok := bytes.Cut(both, []byte{'\n'})
		if !ok {
			return nil, nil, errors.New("a case without its marks")
		}
		return plain, marks, nil
	}
	plain, err := Case.Unpack(raw)
	return plain, nil, err
}
