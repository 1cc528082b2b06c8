package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"gridbot/core"
)

// Case is one case as the export writes it. The JSON names are the format;
// doc.go says what each field holds.
type Case struct {
	Number       string    `json:"number"`
	State        string    `json:"state"`
	StateLabel   string    `json:"state_label"`
	CategoryCode string    `json:"category_code"`
	CategoryName string    `json:"category_name"`
	Village      string    `json:"village"`
	Grid         string    `json:"grid"`
	Place        string    `json:"place"`
	Department   string    `json:"department"`
	Text         string    `json:"text"`
	Location     *Location `json:"location"`
	CreatedAt    string    `json:"created_at"`
	UpdatedAt    string    `json:"updated_at"`
	Deadline     string    `json:"deadline"`
	Result       string    `json:"result"`
	Rating       *int      `json:"rating"`
	Events       []Event   `json:"events"`
}

// Location is where the matter is, in WGS-84 degrees.
type Location struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Event is one line of a case's log as the export writes it.
type Event struct {
	Seq       uint64 `json:"seq"`
	Kind      string `json:"kind"`
	ActorRole string `json:"actor_role"`
	Text      string `json:"text,omitempty"`
	At        string `json:"at"`
}

// Actor roles besides the staff roles (core.Role values).
const (
	ActorRoleResident = core.ActorResident
	ActorRoleSystem   = core.ActorSystem
	// ActorRoleStaff is a staff member no longer in the town directory.
	ActorRoleStaff = "staff"
)

// header is what comes before the cases.
type header struct {
	GeneratedAt string `json:"generated_at"`
	Town        string `json:"town"`
	Since       string `json:"since"`
	Until       string `json:"until"`
}

// pageSize is how many cases one read of the store's list takes.
const pageSize = 200

// Exporter writes exports of one store and town.
type Exporter struct {
	Store core.CaseStore
	Town  *core.Town
	// Now stamps generated_at; nil means time.Now.
	Now func() time.Time
}

// Write streams the export of the cases created in [since, until) to w, with
// generated_at taken from the clock. See the package documentation for the
// format.
func Write(ctx context.Context, w io.Writer, store core.CaseStore, town *core.Town, since, until time.Time) error {
	e := Exporter{Store: store, Town: town}
	return e.Write(ctx, w, since, until)
}

// Write streams the export of the cases created in [since, until) to w. It
// finds them by their numbers, which carry the day they were filed in the
// town's zone (core.FormatCaseNumber): a month at a time, it lists the
// cases numbered in those days (the store's list newest first, from the
// first number after them, core.CaseQuery.Before) and stops below them, so
// it reads the range's cases and not the ledger, and holds a month's cases
// at most. Cases come in the order they were filed. An error after the
// first byte leaves w holding a truncated document, which fails to parse
// rather than passing for a complete one.
func (e *Exporter) Write(ctx context.Context, w io.Writer, since, until time.Time) error {
	if e.Store == nil || e.Town == nil {
		return fmt.Errorf("export: no store or town: %w", core.ErrInvalid)
	}
	if !since.Before(until) {
		return fmt.Errorf("export: since %s is not before until %s: %w",
			since.Format(time.RFC3339), until.Format(time.RFC3339), core.ErrInvalid)
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	head, err := marshal(header{
		GeneratedAt: formatTime(now()),
		Town:        e.Town.Name,
		Since:       formatTime(since),
		Until:       formatTime(until),
	})
	if err != nil {
		return fmt.Errorf("export: header: %w", err)
	}
	// The header's closing brace gives way to the case list.
	if _, err := fmt.Fprintf(w, "%s,\"cases\":[", head[:len(head)-1]); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	written := 0
	// The days numbered, a day wider each side than the range in the
	// town's zone: a case's created_at decides, exactly, below.
	zone := e.Town.Zone()
	first := midnight(since.In(zone)).AddDate(0, 0, -1)
	last := midnight(until.In(zone)).AddDate(0, 0, 1) // included
	for from := first; !from.After(last); {
		to := time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, zone) // the month's end, excluded
		if next := last.AddDate(0, 0, 1); to.After(next) {
			to = next
		}
		cases, err := e.casesNumbered(ctx, from, to)
		if err != nil {
			return err
		}
		for i := range cases {
			rec, ok, err := e.caseRecord(ctx, cases[i], since, until)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			line, err := marshal(rec)
			if err != nil {
				return fmt.Errorf("export: case %s: %w", rec.Number, err)
			}
			sep := ",\n"
			if written == 0 {
				sep = "\n"
			}
			if _, err := io.WriteString(w, sep+string(line)); err != nil {
				return fmt.Errorf("export: write: %w", err)
			}
			written++
		}
		from = to
	}
	if _, err := io.WriteString(w, "\n]}\n"); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// casesNumbered lists the cases numbered on the days [from, to) (midnights
// in the town's zone), in the order they were filed: the store's list from
// the first number of to down to the first below from, a page at a time.
func (e *Exporter) casesNumbered(ctx context.Context, from, to time.Time) ([]core.Case, error) {
	lower := e.Town.CasePrefix + from.Format("20060102")
	before := e.Town.CasePrefix + to.Format("20060102")
	var out []core.Case
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		page, err := e.Store.Cases(ctx, core.CaseQuery{Before: before, Limit: pageSize})
		if err != nil {
			return nil, fmt.Errorf("export: list the cases numbered from %s: %w", lower, err)
		}
		for _, c := range page {
			if c.Number < lower {
				page = nil // below the days: done
				break
			}
			out = append(out, c)
		}
		if len(page) < pageSize {
			break
		}
		before = page[len(page)-1].Number
	}
	// Filed order: by created_at, then number (a day's count past 9999
	// has five digits and sorts among the others as text).
	slices.SortStableFunc(out, func(a, b core.Case) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Number, b.Number)
	})
	return out, nil
}

// caseRecord reads a case's log; ok is false when the case was created
// outside the range or is gone since it was listed.
func (e *Exporter) caseRecord(ctx context.Context, c core.Case, since, until time.Time) (Case, bool, error) {
	if c.CreatedAt.Before(since) || !c.CreatedAt.Before(until) {
		return Case{}, false, nil
	}
	number := c.Number
	events, err := e.Store.Events(ctx, number)
	if errors.Is(err, core.ErrNotFound) {
		return Case{}, false, nil
	}
	if err != nil {
		return Case{}, false, fmt.Errorf("export: read the log of %s: %w", number, err)
	}
	return NewCase(e.Town, c, events), true, nil
}

// NewCase maps a case and its log to the export's shape: phone and ID numbers in
// free text masked, the resident's openid, phone and location label left
// out, staff named only by role.
func NewCase(town *core.Town, c core.Case, events []core.Event) Case {
	rec := Case{
		Number:       c.Number,
		State:        string(c.State),
		StateLabel:   c.State.Label(),
		CategoryCode: c.Category,
		CategoryName: c.Category,
		Village:      c.Village,
		Grid:         c.Grid,
		Place:        town.PlaceName(c.Grid),
		Text:         core.MaskNumbers(c.Text),
		CreatedAt:    formatTime(c.CreatedAt),
		UpdatedAt:    formatTime(c.UpdatedAt),
		Deadline:     formatTime(c.Deadline),
		Result:       core.MaskNumbers(c.Result),
		Events:       make([]Event, 0, len(events)),
	}
	if cat := town.Category(c.Category); cat != nil {
		rec.CategoryName = cat.Name
	}
	if d := LeadDepartment(town, c); d != nil {
		rec.Department = d.Name
	}
	if v := town.Village(c.Village); v != nil {
		rec.Village = v.Name
	}
	if g := town.Grid(c.Grid); g != nil {
		rec.Grid = g.Name
	}
	if c.Location != nil {
		rec.Location = &Location{Lat: c.Location.Lat, Lng: c.Location.Lng}
	}
	if c.Rating > 0 {
		rating := c.Rating
		rec.Rating = &rating
	}
	for _, ev := range events {
		out := Event{Seq: ev.Seq, Kind: string(ev.Kind), ActorRole: ActorRole(town, ev.Actor), At: formatTime(ev.At)}
		if ev.Kind == core.EventReplied || ev.Kind == core.EventResolved {
			out.Text = core.MaskNumbers(ev.Text)
		}
		rec.Events = append(rec.Events, out)
	}
	return rec
}

// LeadDepartment is the department leading on a case: the whistled
// department marked lead (unless it returned the case), else the category's
// lead department; nil when there is none.
func LeadDepartment(town *core.Town, c core.Case) *core.Department {
	for _, a := range c.Departments {
		if a.Lead && a.State != core.AssistReturned {
			if d := town.Department(a.Department); d != nil {
				return d
			}
		}
	}
	if cat := town.Category(c.Category); cat != nil {
		return town.Department(cat.Department)
	}
	return nil
}

// ActorRole says who acted without saying who they are: "resident",
// "system", the staff member's role ("grid", "village", "department",
// "town"), or "staff" for someone no longer in the directory.
func ActorRole(town *core.Town, actor string) string {
	switch actor {
	case core.ActorResident, core.ActorSystem:
		return actor
	}
	if s := town.StaffMember(actor); s != nil {
		return string(s.Role)
	}
	return ActorRoleStaff
}

// townZone is the zone every time in the export is written in (UTC+8).
func townZone() *time.Location { return time.FixedZone("CST", 8*3600) }

// formatTime writes t as RFC 3339 in UTC+8, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(townZone()).Format(time.RFC3339)
}

// marshal encodes v without escaping <, > and &, which are common in
// residents' text and need no escaping outside HTML.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
