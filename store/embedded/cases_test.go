package embedded

import (
	"bytes"
	"testing"

	"gridbot/core"
	"gridbot/store/decodedcache"
)

// The cache answers only for the very bytes it decoded: a case written
// since (other bytes) is decoded again, and a kept case is never the
// caller's to change.
func TestCaseCacheFollowsTheStoredValue(t *testing.T) {
	s := &Store{decoded: decodedcache.New[core.Case](10)}
	c := core.Case{Number: "ST202611250001", Text: "路灯不亮", Photos: []core.Media{{MediaID: "m1"}}}
	v, err := s.encodeCase(&c)
	if err != nil {
		t.Fatal(err)
	}
	var got core.Case
	if err := s.decodeCase(c.Number, v, &got); err != nil {
		t.Fatal(err)
	}
	got.Photos[0].MediaID, got.Text = "changed", "changed"
	var again core.Case
	if !s.decoded.Get(c.Number, v, &again) {
		t.Fatal("not kept")
	}
	if again.Text != "路灯不亮" || again.Photos[0].MediaID != "m1" {
		t.Fatalf("the kept case was changed through a copy: %+v", again)
	}
	c.Text = "井盖缺失"
	v2, err := s.encodeCase(&c)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(v, v2) || s.decoded.Get(c.Number, v2, &again) {
		t.Fatal("a changed value hit the cache")
	}
	if err := s.decodeCase(c.Number, v2, &got); err != nil || got.Text != "井盖缺失" {
		t.Fatalf("after a write: %+v, %v", got, err)
	}
}
