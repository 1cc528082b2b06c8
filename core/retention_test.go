package core_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gridbot/audit"
	"gridbot/configs"
	"gridbot/core"
	"gridbot/store/embedded"
)

func TestEraseExpired(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	l := &core.Ledger{Store: st, Town: town, Now: func() time.Time { return now }}
	file := func(resident string) string {
		c, err := l.Submit(ctx, resident, core.Draft{Category: "light", Text: "我家门口路灯坏了，电话13812345678", Grid: "L10",
			Phone: "13812345678", Location: &core.Location{Point: core.Point{Lat: 22.355, Lng: 112.545}, Label: "石桥村12号"},
			Photos: []core.Media{{MediaID: "photo-1"}}})
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	close := func(number string) {
		if _, _, err := l.Resolve(ctx, number, "gl-L10-a", "已修好"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Rate(ctx, mustCase(t, st, number).Resident, 5); err != nil {
			t.Fatal(err)
		}
	}
	old, recent, open := file("o-old"), file("o-recent"), file("o-open")
	close(old)
	now = now.AddDate(2, 0, 0)
	close(recent)
	now = now.AddDate(1, 0, 1)

	// The audit trail of who read the old case is older than the cutoff
	// too, and stays: the retention erases personal data, never the
	// record of access to it (等保 安全审计).
	trail := &audit.Trail{Store: st, Now: func() time.Time { return now.AddDate(-3, 0, -1) }}
	if err := trail.Record(ctx, core.AuditRecord{Actor: "gl-L10-a", Action: core.AuditViewCase, Object: old}); err != nil {
		t.Fatal(err)
	}

	cutoff := now.AddDate(-3, 0, 0)
	erased, media, err := l.EraseExpired(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := trail.Verify(ctx); err != nil || !rep.OK() || rep.Records != 1 {
		t.Errorf("the retention touched the audit trail: %v %+v", err, rep)
	}
	if len(erased) != 1 || erased[0] != old || len(media) != 1 || media[0] != "photo-1" {
		t.Fatalf("erased %v media %v, want only %s", erased, media, old)
	}
	c := mustCase(t, st, old)
	if c.Resident != "" || c.Phone != "" || c.Text != core.ErasedText || len(c.Photos) != 0 || c.Location.Label != "" {
		t.Fatalf("personal data left on %s: %+v", old, c)
	}
	if c.State != core.StateClosed || c.Rating != 5 || c.Category != "light" || c.Grid != "L10" {
		t.Fatalf("the figures of %s were lost: %+v", old, c)
	}
	for _, n := range []string{recent, open} {
		if c := mustCase(t, st, n); c.Phone == "" || c.Resident == "" {
			t.Fatalf("%s erased too early", n)
		}
	}
	// A second run (another instance, the next day) changes nothing.
	if again, _, err := l.EraseExpired(ctx, cutoff); err != nil || len(again) != 0 {
		t.Fatalf("second run erased %v, %v", again, err)
	}
}

func mustCase(t *testing.T, st core.CaseStore, number string) core.Case {
	t.Helper()
	c, err := st.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
