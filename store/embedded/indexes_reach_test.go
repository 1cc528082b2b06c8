package embedded_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// A file written before the staff and village indexes gets them when
// opened.
func TestReachIndexBuiltWhenOpened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbot.db")
	storetest.ReachIndexBuiltWhenOpened(t, openFile(t, path), func() { rewriteFile(t, path, dropBuckets("staff", "vgrids")) })
}

// go test -run '^$' -bench BenchmarkReach ./store/embedded/
func BenchmarkReach(b *testing.B) {
	for _, n := range []int{5000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, err := embedded.Open(filepath.Join(b.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchReach(b, s, n)
		})
	}
}
