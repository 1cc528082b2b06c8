package embedded_test

import (
	"path/filepath"
	"testing"

	"gridbot/store"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// A file written before the retention index gets it when opened.
func TestRetentionIndexBuiltWhenOpened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbot.db")
	storetest.RetentionIndexBuiltWhenOpened(t, 300, openFile(t, path), func() { rewriteFile(t, path, dropBuckets("retain")) })
}

// shared is the one store of a file that two "instances" share (the file
// is locked to one process): closing it is the test's.
type shared struct{ *embedded.Store }

func (shared) Close() error { return nil }

// A retention run, two at once, erases exactly the expired cases.
func TestRetentionErasesExactlyTheExpired(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", NoSync: true,
		Search: storetest.SearchRule})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.RetentionErasesExactlyTheExpired(t, 600, func() store.Store { return shared{s} })
}
