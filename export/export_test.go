package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/export"
	"gridbot/store/embedded"
)

// clock is a settable time for the ledger.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var cst = time.FixedZone("CST", 8*3600)

func at(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, cst) }

// Personal data the fixture puts on cases, which no export may carry.
const (
	residentOpenID = "oResidentSecret001"
	residentPhone  = "13812345678"
	locationLabel  = "张三家门口老榕树下"
	staffName      = "黄家豪" // gl-L01-a in the sample town
)

type fixture struct {
	store  *embedded.Store
	town   *core.Town
	ledger *core.Ledger
	clock  *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{}
	return &fixture{store: s, town: town, clock: c, ledger: &core.Ledger{Store: s, Town: town, Now: c.Now}}
}

// file submits a case at the given time and returns its number.
func (f *fixture) file(t *testing.T, when time.Time, d core.Draft) string {
	t.Helper()
	f.clock.Set(when)
	c, err := f.ledger.Submit(context.Background(), residentOpenID, d)
	if err != nil {
		t.Fatal(err)
	}
	return c.Number
}

// seed files four cases across three days and works the second one to a
// closed, rated case.
func (f *fixture) seed(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	withLocation := core.Draft{Category: "light", Text: "路灯坏了，晚上很黑。联系我 13987654321", Grid: "L01",
		Location: &core.Location{Point: core.Point{Lat: 22.325, Lng: 112.525}, Label: locationLabel}, Phone: residentPhone}
	fromLists := core.Draft{Category: "env", Text: "垃圾堆放 <三天> 没人清理 & 有异味", Grid: "M01", Village: "v01"}
	numbers := []string{
		f.file(t, at(24, 23), withLocation), // the day before the range
		f.file(t, at(25, 0), withLocation),  // the first instant of the range
		f.file(t, at(25, 15), fromLists),    // inside
		f.file(t, at(26, 0), fromLists),     // the first instant after it
	}
	steps := []func() error{
		func() error { _, _, err := f.ledger.Assign(ctx, numbers[1]); return err },
		func() error {
			_, _, err := f.ledger.Reply(ctx, numbers[1], "gl-L01-a", "已联系城建办，明天上午维修，有事请拨 139-1234-5678")
			return err
		},
		func() error {
			_, _, err := f.ledger.Resolve(ctx, numbers[1], "v01-cadre", "已更换灯泡，恢复照明")
			return err
		},
		func() error { _, err := f.ledger.Rate(ctx, residentOpenID, 5); return err },
	}
	for i, step := range steps {
		f.clock.Set(at(25, 1+i))
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	return numbers
}

func (f *fixture) export(t *testing.T, since, until time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	e := export.Exporter{Store: f.store, Town: f.town, Now: func() time.Time { return at(27, 8) }}
	if err := e.Write(context.Background(), &b, since, until); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type document struct {
	GeneratedAt string        `json:"generated_at"`
	Town        string        `json:"town"`
	Since       string        `json:"since"`
	Until       string        `json:"until"`
	Cases       []export.Case `json:"cases"`
}

func TestWriteSelectsByCreatedAt(t *testing.T) {
	f := newFixture(t)
	n := f.seed(t)
	tests := []struct {
		name         string
		since, until time.Time
		want         []string
	}{
		{"one day, since included, until excluded", at(25, 0), at(26, 0), []string{n[1], n[2]}},
		{"the day before", at(24, 0), at(25, 0), []string{n[0]}},
		{"everything", at(1, 0), at(30, 0), n},
		{"an hour inside", at(25, 15), at(25, 16), []string{n[2]}},
		{"nothing", at(20, 0), at(21, 0), nil},
		{"the range in another zone", at(25, 0).UTC(), at(26, 0).UTC(), []string{n[1], n[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc document
			if err := json.Unmarshal(f.export(t, tt.since, tt.until), &doc); err != nil {
				t.Fatalf("the export is not JSON: %v", err)
			}
			var got []string
			for _, c := range doc.Cases {
				got = append(got, c.Number)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("cases = %v, want %v", got, tt.want)
			}
			if doc.Cases == nil {
				t.Errorf("cases is null, want a list")
			}
		})
	}
}

func TestWriteGolden(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	raw := f.export(t, at(25, 0), at(26, 0))
	var got bytes.Buffer
	if err := json.Indent(&got, raw, "", "  "); err != nil {
		t.Fatalf("the export is not JSON: %v\n%s", err, raw)
	}
	got.WriteByte('\n')
	path := filepath.Join("testdata", "export.golden.json")
	if os.Getenv("GRIDBOT_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with GRIDBOT_UPDATE_GOLDEN=1 to write it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("export differs from %s (GRIDBOT_UPDATE_GOLDEN=1 rewrites it):\n%s", path, got.Bytes())
	}
}

// TestWriteFieldNames pins the format: the consumers of the export parse
// these names.
func TestWriteFieldNames(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	var doc map[string]any
	if err := json.Unmarshal(f.export(t, at(25, 0), at(26, 0)), &doc); err != nil {
		t.Fatal(err)
	}
	cases := doc["cases"].([]any)
	tests := []struct {
		what   string
		object map[string]any
		fields []string
	}{
		{"document", doc, []string{"generated_at", "town", "since", "until", "cases"}},
		{"case", cases[0].(map[string]any), []string{"number", "state", "state_label", "category_code", "category_name",
			"village", "grid", "place", "department", "text", "location", "created_at", "updated_at", "deadline",
			"result", "rating", "events"}},
		{"location", cases[0].(map[string]any)["location"].(map[string]any), []string{"lat", "lng"}},
		{"event", cases[0].(map[string]any)["events"].([]any)[0].(map[string]any), []string{"seq", "kind", "actor_role", "at"}},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			var got []string
			for k := range tt.object {
				got = append(got, k)
			}
			slices.Sort(got)
			want := slices.Clone(tt.fields)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("fields = %v, want %v", got, want)
			}
		})
	}
}

func TestWriteCarriesNoPersonalData(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	out := string(f.export(t, at(1, 0), at(30, 0)))
	for _, secret := range []string{residentOpenID, residentPhone, "13987654321", "139-1234-5678", locationLabel,
		staffName, "gl-L01-a", "v01-cadre", "osample"} {
		if strings.Contains(out, secret) {
			t.Errorf("the export contains %q", secret)
		}
	}
	for _, masked := range []string{"139****4321", "139****5678"} {
		if !strings.Contains(out, masked) {
			t.Errorf("the export lacks the masked %q", masked)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name         string
		ctx          context.Context
		e            export.Exporter
		since, until time.Time
		want         error
	}{
		{"until before since", ctx, export.Exporter{Store: f.store, Town: f.town}, at(26, 0), at(25, 0), core.ErrInvalid},
		{"empty range", ctx, export.Exporter{Store: f.store, Town: f.town}, at(25, 0), at(25, 0), core.ErrInvalid},
		{"no town", ctx, export.Exporter{Store: f.store}, at(25, 0), at(26, 0), core.ErrInvalid},
		{"cancelled", cancelled, export.Exporter{Store: f.store, Town: f.town}, at(25, 0), at(26, 0), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Write(tt.ctx, &bytes.Buffer{}, tt.since, tt.until)
			if !errors.Is(err, tt.want) {
				t.Errorf("Write = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestWritePages files more cases than one read of the log takes.
func TestWritePages(t *testing.T) {
	f := newFixture(t)
	f.ledger.Limits.ExemptPrefixes = []string{residentOpenID} // one resident files them all
	const n = 1200                                            // with their submitted events, more than two pages of the log
	d := core.Draft{Category: "env", Text: "垃圾", Grid: "M01"}
	for i := range n {
		f.file(t, at(25, 0).Add(time.Duration(i)*time.Second), d)
	}
	var doc document
	if err := json.Unmarshal(f.export(t, at(25, 0), at(26, 0)), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) != n {
		t.Fatalf("exported %d cases, want %d", len(doc.Cases), n)
	}
	for i := 1; i < len(doc.Cases); i++ {
		if doc.Cases[i-1].CreatedAt > doc.Cases[i].CreatedAt {
			t.Fatalf("case %d is out of filing order", i)
		}
	}
}

func TestWritePackageFunc(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	var b bytes.Buffer
	if err := export.Write(context.Background(), &b, f.store, f.town, at(25, 0), at(26, 0)); err != nil {
		t.Fatal(err)
	}
	var doc document
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.Cases) != 2 || doc.GeneratedAt == "" {
		t.Errorf("Write = %d cases, generated_at %q, %v", len(doc.Cases), doc.GeneratedAt, err)
	}
}

func TestLeadDepartment(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    core.Case
		want string // department name, "" for none
	}{
		{"the category's", core.Case{Category: "light"}, "城建办"},
		{"whistled lead", core.Case{Category: "light", Departments: []core.Assist{
			{Department: "chengjian", State: core.AssistCalled},
			{Department: "paichusuo", State: core.AssistSigned, Lead: true},
		}}, "派出所"},
		{"lead returned it", core.Case{Category: "light", Departments: []core.Assist{
			{Department: "paichusuo", State: core.AssistReturned, Lead: true},
		}}, "城建办"},
		{"unknown category", core.Case{Category: "gone"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if d := export.LeadDepartment(town, tt.c); d != nil {
				got = d.Name
			}
			if got != tt.want {
				t.Errorf("LeadDepartment = %q, want %q", got, tt.want)
			}
			if rec := export.NewCase(town, tt.c, nil); rec.Department != tt.want || rec.Events == nil {
				t.Errorf("NewCase department %q events %v, want %q and []", rec.Department, rec.Events, tt.want)
			}
		})
	}
}

func TestActorRole(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ actor, want string }{
		{core.ActorResident, "resident"},
		{core.ActorSystem, "system"},
		{"gl-L01-a", "grid"},
		{"v01-cadre", "village"},
		{"town-admin", "town"},
		{"left-long-ago", "staff"},
	}
	for _, tt := range tests {
		if got := export.ActorRole(town, tt.actor); got != tt.want {
			t.Errorf("ActorRole(%q) = %q, want %q", tt.actor, got, tt.want)
		}
	}
}

// counting is a store that counts the cases its list returns and the
// reads of the whole event log.
type counting struct {
	core.CaseStore
	listed, logReads int
}

func (c *counting) Cases(ctx context.Context, q core.CaseQuery) ([]core.Case, error) {
	out, err := c.CaseStore.Cases(ctx, q)
	c.listed += len(out)
	return out, err
}

func (c *counting) EventsSince(ctx context.Context, seq uint64, limit int) ([]core.Event, error) {
	c.logReads++
	return c.CaseStore.EventsSince(ctx, seq, limit)
}

// TestWriteReadsTheRangeNotTheLedger: a month's export of a ledger a year
// deep reads that month's cases (and a page past them), not the ledger.
func TestWriteReadsTheRangeNotTheLedger(t *testing.T) {
	f := newFixture(t)
	f.ledger.Limits.ExemptPrefixes = []string{residentOpenID}
	d := core.Draft{Category: "env", Text: "垃圾", Grid: "M01"}
	start := time.Date(2025, 1, 1, 10, 0, 0, 0, cst)
	var inMarch []string
	for day := 0; day < 365; day++ {
		for i := 0; i < 4; i++ {
			when := start.AddDate(0, 0, day).Add(time.Duration(i) * time.Hour)
			n := f.file(t, when, d)
			if when.Month() == time.March {
				inMarch = append(inMarch, n)
			}
		}
	}
	store := &counting{CaseStore: f.store}
	var b bytes.Buffer
	e := export.Exporter{Store: store, Town: f.town, Now: func() time.Time { return at(27, 8) }}
	since, until := time.Date(2025, 3, 1, 0, 0, 0, 0, cst), time.Date(2025, 4, 1, 0, 0, 0, 0, cst)
	if err := e.Write(context.Background(), &b, since, until); err != nil {
		t.Fatal(err)
	}
	var doc document
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range doc.Cases {
		got = append(got, c.Number)
	}
	if !slices.Equal(got, inMarch) {
		t.Fatalf("exported %d cases, want March's %d in filing order", len(got), len(inMarch))
	}
	// March, a day each side, and at most a page past each month read.
	if limit := len(inMarch) + 2*4 + 3*200; store.listed > limit || store.logReads > 0 {
		t.Fatalf("read %d cases and the whole log %d times for %d cases of a 1,460-case ledger (at most %d)",
			store.listed, store.logReads, len(inMarch), limit)
	}
}
