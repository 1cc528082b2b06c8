package valuecodec

import (
	"bytes"
	"testing"
)

// A case with its marks reads back from what every codec that ever wrote
// it made: the trained dictionary that writes now, the hand-written one
// before it, a case alone, and plain JSON; a value whose tag no codec
// knows, or that is cut short, is an error.
func TestSplitCaseReadsEveryLayout(t *testing.T) {
	caseJSON, marksJSON, _ := benchSamples(nil)
	both := append(append(append([]byte{}, caseJSON...), '\n'), marksJSON...)
	now, err := PackCaseWithMarks(caseJSON, marksJSON)
	if err != nil {
		t.Fatal(err)
	}
	if now[0] != CaseWithMarks2.Tag() {
		t.Fatalf("written with tag %#x", now[0])
	}
	before, _ := CaseWithMarks.Pack(both)
	alone, _ := Case.Pack(caseJSON)
	for _, tc := range []struct {
		name      string
		raw       []byte
		wantMarks []byte
	}{{"trained", now, marksJSON}, {"hand-written", before, marksJSON}, {"alone", alone, nil}, {"plain", caseJSON, nil}} {
		gotCase, gotMarks, err := SplitCase(tc.raw)
		if err != nil || !bytes.Equal(gotCase, caseJSON) || !bytes.Equal(gotMarks, tc.wantMarks) {
			t.Errorf("%s: %s / %s, %v", tc.name, gotCase, gotMarks, err)
		}
	}
	for _, bad := range [][]byte{append([]byte{0x7f}, now[1:]...), now[:len(now)/2]} {
		if c, m, err := SplitCase(bad); err == nil {
			t.Errorf("%q read as %s / %s", bad, c, m)
		}
	}
	if got := Expand(now); !bytes.Equal(got, both) {
		t.Errorf("Expand: %s", got)
	}
}
