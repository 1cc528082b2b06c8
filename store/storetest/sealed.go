package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/sealing"
	"gridbot/store"
)

// SealedFactory opens the same store (one file, one key prefix) each time
// it is called, sealing with sealer (nil: plain); the caller closes it.
type SealedFactory func(t *testing.T, sealer core.Sealer) store.Store

// SealedSearch is the word index's rule with the keys of sealer (a
// sealing.Keyring), as gridbot wires it: keyed digests of the terms.
func SealedSearch(sealer core.Sealer) core.SearchIndex {
	var x core.SearchIndex
	if b, ok := sealer.(core.TermBlinder); ok {
		x.Blind = b
	}
	return x
}

// RawContents returns everything the store keeps, as it lies on disk or on
// the server (the store closed, or its server saved, as the store needs).
type RawContents func(t *testing.T) []byte

// What a resident and staff wrote in RunSealed, which must not be found in
// the raw contents.
var sealedSecrets = []string{"13900001111", "紫藤花开井盖松动", "幸福巷12号", "幸福巷口", "王阿姨", "已派人查看紫藤", "户主赵先生", "JBSWY3DPEHPK3PXP",
	"走访见紫藤屋漏"}

// RunSealed checks personal data at rest (core/sealing.go): with a Sealer
// the resident's phone, words, address, place and household file are
// nowhere in the raw contents, yet everything reads back the same; after a
// key rotation the old data still reads and new data is sealed with the
// new key; data written plain before sealing was turned on still reads;
// and a sealed store opened without the keys refuses to read instead of
// answering with sealed bytes.
func RunSealed(t *testing.T, open SealedFactory, raw RawContents) {
	ctx := context.Background()
	text := sealing.NewFile()
	k1, err := sealing.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	rotated, _, err := sealing.Rotate(text)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := sealing.Parse(rotated)
	if err != nil {
		t.Fatal(err)
	}
	clock := &Clock{}
	now := clock.Now()

	// Written plain, before the keys.
	s := open(t, nil)
	plain := mustCreate(t, s, clock, "o-plain", "g1")
	s.Close()

	s = open(t, k1)
	c := core.Case{Resident: "o-sealed", Grid: "g1", Category: "road", State: core.StateSubmitted, CreatedAt: now,
		Text: "紫藤花开井盖松动", Phone: "13900001111", Address: "幸福巷12号", Contact: "王阿姨",
		Location: &core.Location{Point: core.Point{Lat: 22.3, Lng: 112.5}, Label: "幸福巷口"}}
	c, first, err := s.CreateCase(ctx, c, core.Event{Kind: core.EventSubmitted, Actor: core.ActorResident, Text: c.Text, At: now})
	if err != nil {
		t.Fatal(err)
	}
	reply := core.Event{Kind: core.EventReplied, Actor: "lead1", Text: "已派人查看紫藤", At: now.Add(time.Minute),
		Data: map[string]string{core.DataLabel: "幸福巷口", core.DataGrid: "g1"}}
	if _, _, err := s.UpdateCase(ctx, c.Number, func(*core.Case) ([]core.Event, error) { return []core.Event{reply}, nil }); err != nil {
		t.Fatal(err)
	}
	household := []byte(`{"openid":"o-sealed","name":"户主赵先生","phone":"13900001111"}`)
	if err := s.PutRecord(ctx, "household", "o-sealed", household); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "staff-leave", "lead1", []byte("away")); err != nil {
		t.Fatal(err)
	}
	// The staff's TOTP secrets: sealed, and listed whole for the 安全管理员.
	factor := []byte(`{"secret":"JBSWY3DPEHPK3PXP紫藤"}`)
	if err := s.PutRecord(ctx, "second-factor", "lead1", factor); err != nil {
		t.Fatal(err)
	}
	// A cadre's visit to a linked household, and the imported link
	// (二十户包联): what was found, the household's name, phone, address.
	visit := core.Visit{ID: "V1", Household: "H1", Cadre: "lead1", Village: "v1", Grid: "g1", At: now,
		Month: now.Format("2006-01"), Found: "走访见紫藤屋漏", Key: "k1"}
	if _, _, err := s.AddVisit(ctx, visit); err != nil {
		t.Fatal(err)
	}
	link := []byte(`{"id":"H1","cadre":"lead1","grid":"g1","address":"幸福巷12号","name":"户主赵先生","phone":"13900001111"}`)
	if err := s.PutRecord(ctx, "linked", "H1", link); err != nil {
		t.Fatal(err)
	}
	check := func(s store.Store, when string) {
		t.Helper()
		if vs, err := s.HouseholdVisits(ctx, "H1", 5); err != nil || len(vs) != 1 || vs[0].Found != visit.Found {
			t.Fatalf("%s: the visit reads %+v %v", when, vs, err)
		}
		if again, added, err := s.AddVisit(ctx, core.Visit{ID: "V2", Household: "H1", Cadre: "lead1", Key: "k1", At: now}); err != nil ||
			added || again.Found != visit.Found {
			t.Fatalf("%s: the visit replayed reads %+v %v %v", when, again, added, err)
		}
		if all, err := s.RecordsIn(ctx, "linked"); err != nil || !bytes.Equal(all["H1"], link) {
			t.Fatalf("%s: the links: %q %v", when, all, err)
		}
		got, err := s.Case(ctx, c.Number)
		if err != nil || got.Text != c.Text || got.Phone != c.Phone || got.Address != c.Address || got.Contact != c.Contact ||
			got.Location == nil || got.Location.Label != "幸福巷口" || got.Location.Lat != 22.3 {
			t.Fatalf("%s: case reads %+v, %v", when, got, err)
		}
		list, err := s.Cases(ctx, core.CaseQuery{Resident: "o-sealed"})
		if err != nil || len(list) != 1 || list[0].Phone != c.Phone {
			t.Fatalf("%s: the resident's cases: %+v, %v", when, list, err)
		}
		evs, err := s.Events(ctx, c.Number)
		if err != nil || len(evs) != 2 || evs[0].Text != c.Text || evs[1].Text != reply.Text ||
			evs[1].Data[core.DataLabel] != "幸福巷口" || evs[1].Data[core.DataGrid] != "g1" || len(evs[1].Data) != 2 {
			t.Fatalf("%s: events read %+v, %v", when, evs, err)
		}
		since, err := s.EventsSince(ctx, first.Seq-1, 10)
		if err != nil || len(since) != 2 || since[1].Text != reply.Text {
			t.Fatalf("%s: events since: %+v, %v", when, since, err)
		}
		if v, ok, err := s.Record(ctx, "household", "o-sealed"); err != nil || !ok || !bytes.Equal(v, household) {
			t.Fatalf("%s: household reads %q %v %v", when, v, ok, err)
		}
		if v, _, err := s.Record(ctx, "staff-leave", "lead1"); err != nil || string(v) != "away" {
			t.Fatalf("%s: a record of another namespace: %q %v", when, v, err)
		}
		if all, err := s.RecordsIn(ctx, "second-factor"); err != nil || !bytes.Equal(all["lead1"], factor) {
			t.Fatalf("%s: the second factors: %q %v", when, all, err)
		}
		if got, err := s.Case(ctx, plain.Number); err != nil || got.Text != plain.Text {
			t.Fatalf("%s: the case written plain: %+v %v", when, got, err)
		}
	}
	check(s, "sealed with k1")
	// A dialog's draft quotes the resident: sealed too, a count not.
	draft := []byte(`{"draft":{"text":"紫藤花开井盖松动","phone":"13900001111"}}`)
	if err := s.Set(ctx, "session:o-sealed", draft, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "count:o-sealed", time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Close()
	all := raw(t)
	for _, secret := range sealedSecrets {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("%q lies in the store in plain text", secret)
		}
	}
	if !bytes.Contains(all, []byte(c.Number)) || !bytes.Contains(all, []byte("away")) {
		t.Fatal("the raw contents lack the case number or a plain record: the check would see nothing")
	}

	// Rotated: the old data reads, a new write is sealed with k2 and a
	// key file of k1 alone cannot read it.
	s = open(t, k2)
	check(s, "after the rotation")
	if v, ok, err := s.Get(ctx, "session:o-sealed"); err != nil || !ok || !bytes.Equal(v, draft) {
		t.Errorf("the draft after the rotation: %q %v %v", v, ok, err)
	}
	if n, err := s.Incr(ctx, "count:o-sealed", time.Hour); err != nil || n != 2 {
		t.Errorf("a count after the rotation: %d %v", n, err)
	}
	if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
		c.Phone = "13900002222"
		return []core.Event{{Kind: core.EventReplied, Actor: "lead1", Text: "换了号码", At: now.Add(2 * time.Minute)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "household", "o-new", household); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if all := raw(t); bytes.Contains(all, []byte("13900002222")) || bytes.Contains(all, []byte("换了号码")) {
		t.Error("written after the rotation, in plain text")
	}
	s = open(t, k1)
	if _, err := s.Case(ctx, c.Number); err == nil {
		t.Error("the case sealed with k2 reads with k1 alone")
	}
	if _, _, err := s.Record(ctx, "household", "o-new"); err == nil {
		t.Error("the record sealed with k2 reads with k1 alone")
	}
	s.Close()

	// Resealed with k2, everything reads with k2 alone, and the case
	// written plain before the keys is sealed too.
	s = open(t, k2)
	resealer, ok := s.(interface {
		Reseal(context.Context) (int, error)
	})
	if !ok {
		t.Fatal("the store cannot reseal (gridbot keys reseal)")
	}
	n, err := resealer.Reseal(ctx)
	if err != nil || n == 0 {
		t.Fatalf("reseal: %d rewritten, %v", n, err)
	}
	if again, err := resealer.Reseal(ctx); err != nil || again != 0 {
		t.Errorf("a second reseal rewrote %d (%v), want 0", again, err)
	}
	s.Close()
	var k2Only []string
	for _, line := range strings.Split(rotated, "\n") {
		if !strings.HasPrefix(line, "key k1 ") {
			k2Only = append(k2Only, line)
		}
	}
	k2Alone, err := sealing.Parse(strings.Join(k2Only, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	s = open(t, k2Alone)
	if got, err := s.Case(ctx, c.Number); err != nil || got.Phone != "13900002222" || got.Text != c.Text {
		t.Errorf("after the reseal, with k2 alone: %+v %v", got, err)
	}
	if evs, err := s.Events(ctx, c.Number); err != nil || len(evs) != 3 || evs[1].Text != reply.Text {
		t.Errorf("events after the reseal, with k2 alone: %+v %v", evs, err)
	}
	if v, _, err := s.Record(ctx, "household", "o-sealed"); err != nil || !bytes.Equal(v, household) {
		t.Errorf("household after the reseal, with k2 alone: %q %v", v, err)
	}
	if got, err := s.Case(ctx, plain.Number); err != nil || got.Text != plain.Text {
		t.Errorf("the case once plain, after the reseal: %+v %v", got, err)
	}
	s.Close()
	if bytes.Contains(raw(t), []byte(plain.Text)) {
		t.Error("the case written plain is still plain after the reseal")
	}

	// Without keys: an error, never the sealed bytes as if they were data.
	s = open(t, nil)
	defer s.Close()
	if _, err := s.Case(ctx, c.Number); !errors.Is(err, core.ErrNoKey) {
		t.Errorf("the sealed case without keys: %v", err)
	}
	if _, _, err := s.Record(ctx, "household", "o-sealed"); !errors.Is(err, core.ErrNoKey) {
		t.Errorf("the sealed record without keys: %v", err)
	}
}
