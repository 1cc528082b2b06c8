package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Linked households (二十户包联, 结亲访友): each cadre is linked to about
// twenty households, visits them (走访) and keeps their file (一户一档). The
// directory links them (Town.Linked), and a spreadsheet import adds links
// kept as records (LinkBook). A linked household's new case is also pushed
// to its cadre (the router asks LinkBook.Match and Ledger.LinkHousehold);
// a visit records what the cadre found, which may become a patrol report on
// the household's grid (Visits.Record). The household's file shows the
// visits and the cases together.

// StepVisit is recording a visit to a linked household (走访); like
// StepPatrol it is asked of the policy with the household, not a case.
const StepVisit Step = "visit"

// EventHouseholdLinked records that a new case came from a linked
// household (DataHousehold, DataCadre): the router tells the cadre.
const EventHouseholdLinked EventKind = "household_linked"

// Keys of the linked households' event data.
const (
	DataHousehold = "household"
	DataCadre     = "cadre"
)

// Bounds of the linked households.
const (
	MaxLinkedPerCadre = 50
	maxLinkText       = 100
	// MaxVisitsShown bounds the visits a household's file lists.
	MaxVisitsShown = 100
)

// LinkedHousehold is a household a cadre is linked to: where it lives, and
// the registered resident's phone when the link is to them.
type LinkedHousehold struct {
	ID    string `json:"id" yaml:"id"`
	Cadre string `json:"cadre" yaml:"cadre"`
	Grid  string `json:"grid" yaml:"grid"`
	// Village is the grid's; NewTown and the import fill it.
	Village string `json:"village" yaml:"-"`
	Address string `json:"address" yaml:"address"`
	// Name is how the cadre calls the household (户主).
	Name  string `json:"name" yaml:"name"`
	Phone string `json:"phone,omitempty" yaml:"phone"`
}

// Label is the household as its cadre reads it: its name and address.
func (h *LinkedHousehold) Label() string {
	if h.Name == "" {
		return h.Address
	}
	return h.Name + "（" + h.Address + "）"
}

// HouseholdID derives a household's ID from its grid and address, so the
// directory and an import name the same household alike.
func HouseholdID(grid, address string) string {
	sum := sha256.Sum256([]byte(grid + "\x1f" + normalAddress(address)))
	return "H" + hex.EncodeToString(sum[:6])
}

// normalAddress is an address compared: letters and digits only, ASCII
// for full-width forms, lower case.
func normalAddress(a string) string {
	var b strings.Builder
	for _, r := range a {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// normalPhone is a phone compared: its digits, without a leading +86.
func normalPhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	return d
}

// checkLink checks one link against the directory and fills its derived
// fields; the error says what is wrong in words for the import's report.
func (t *Town) checkLink(h *LinkedHousehold) error {
	h.Address, h.Name, h.Phone = strings.TrimSpace(h.Address), strings.TrimSpace(h.Name), strings.TrimSpace(h.Phone)
	s := t.StaffMember(h.Cadre)
	g := t.Grid(h.Grid)
	switch {
	case s == nil:
		return fmt.Errorf("没有这个工作人员：%s", h.Cadre)
	case s.Role != RoleTown && s.Role != RoleVillage && s.Role != RoleGridLeader:
		return fmt.Errorf("%s不是镇村干部或网格员，不能包联农户", s.Name)
	case g == nil:
		return fmt.Errorf("没有这个网格：%s", h.Grid)
	case normalAddress(h.Address) == "" || len([]rune(h.Address)) > maxLinkText || len([]rune(h.Name)) > 30:
		return fmt.Errorf("缺少地址，或地址超过%d字、户主称呼超过30字", maxLinkText)
	case h.Phone != "" && (len(normalPhone(h.Phone)) < 7 || len(normalPhone(h.Phone)) > 12):
		return fmt.Errorf("电话号码不对：%s", h.Phone)
	}
	h.Village = g.Village
	if h.ID == "" {
		h.ID = HouseholdID(h.Grid, h.Address)
	}
	if len(h.ID) > 64 {
		return fmt.Errorf("户编号超过64个字符")
	}
	return nil
}

// checkLinked checks the directory's links: each to a cadre and a grid
// that exist, once each, at most MaxLinkedPerCadre per cadre.
func (t *Town) checkLinked() error {
	seen := map[string]bool{}
	per := map[string]int{}
	for i := range t.Linked {
		h := &t.Linked[i]
		if err := t.checkLink(h); err != nil {
			return fmt.Errorf("linked_households[%d]: %w", i, err)
		}
		if seen[h.ID] {
			return fmt.Errorf("linked_households[%d]: the household %q (%s) is linked twice", i, h.ID, h.Address)
		}
		seen[h.ID] = true
		if per[h.Cadre]++; per[h.Cadre] > MaxLinkedPerCadre {
			return fmt.Errorf("linked_households[%d]: %s has more than %d households", i, h.Cadre, MaxLinkedPerCadre)
		}
	}
	return nil
}

// CanSeeHousehold reports whether staff s may read household h's file:
// its cadre, the town, its village's staff and its grid's leaders.
func (t *Town) CanSeeHousehold(s *Staff, h *LinkedHousehold) bool {
	if s == nil || s.Disabled || h == nil {
		return false
	}
	switch {
	case h.Cadre == s.ID, s.Role == RoleTown:
		return true
	case s.Role == RoleVillage:
		return h.Village == s.Village
	case s.Role == RoleGridLeader:
		g := t.Grid(h.Grid)
		return g != nil && (g.LeaderA == s.ID || g.LeaderB == s.ID)
	}
	return false
}

// PermitVisit decides whether staff s may record a visit to household h:
// only the cadre linked to it (结亲访友 is theirs); anyone else who may
// read the file is refused, and whoever may not is told there is no such
// household.
func (t *Town) PermitVisit(s *Staff, h *LinkedHousehold) error {
	switch {
	case s == nil || s.Disabled:
		return refuse(StepVisit, ErrForbidden, "只有在册的工作人员才能记录走访。")
	case h == nil || !t.CanSeeHousehold(s, h):
		return refuse(StepVisit, ErrNotFound, "没有找到这户，请核对。")
	case h.Cadre != s.ID:
		return refuse(StepVisit, ErrForbidden, "这户由"+staffName(t, h.Cadre)+"包联，走访由包联干部记录。")
	}
	return nil
}

// PermitLinkImport decides whether staff s may import links: the town.
func PermitLinkImport(s *Staff) error {
	if s == nil || s.Disabled || s.Role != RoleTown {
		return refuse("", ErrForbidden, "包联农户由镇里导入。")
	}
	return nil
}

func staffName(t *Town, id string) string {
	if s := t.StaffMember(id); s != nil {
		return s.Name
	}
	return id
}

// nsLinked keeps the imported links: household ID → LinkedHousehold. A
// town links some hundreds of households: a small namespace.
const nsLinked = "linked"

// LinkBook is every linked household: the directory's and the imported.
type LinkBook struct {
	Town    TownSource
	Records Records
}

// All lists every linked household, the directory's first; an imported
// link of the same household replaces the directory's.
func (b *LinkBook) All(ctx context.Context) ([]LinkedHousehold, error) {
	town := b.Town.Town()
	raw, err := b.Records.RecordsIn(ctx, nsLinked)
	if err != nil {
		return nil, fmt.Errorf("linked households: %w", err)
	}
	out := make([]LinkedHousehold, 0, len(town.Linked)+len(raw))
	imported := make(map[string]bool, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
		imported[k] = true
	}
	for _, h := range town.Linked {
		if !imported[h.ID] {
			out = append(out, h)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		var h LinkedHousehold
		if err := json.Unmarshal(raw[k], &h); err != nil {
			return nil, fmt.Errorf("linked household %s: %w", k, err)
		}
		// A link whose cadre or grid left the directory is not shown.
		if town.checkLink(&h) == nil {
			out = append(out, h)
		}
	}
	return out, nil
}

// Household returns the linked household with id, or nil.
func (b *LinkBook) Household(ctx context.Context, id string) (*LinkedHousehold, error) {
	all, err := b.All(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, nil
}

// Of lists the households linked to cadre, in the directory's order.
func (b *LinkBook) Of(ctx context.Context, cadre string) ([]LinkedHousehold, error) {
	all, err := b.All(ctx)
	if err != nil {
		return nil, err
	}
	var out []LinkedHousehold
	for _, h := range all {
		if h.Cadre == cadre {
			out = append(out, h)
		}
	}
	return out, nil
}

// Visible lists the households staff s may read the files of.
func (b *LinkBook) Visible(ctx context.Context, s *Staff) ([]LinkedHousehold, error) {
	all, err := b.All(ctx)
	if err != nil {
		return nil, err
	}
	town := b.Town.Town()
	var out []LinkedHousehold
	for i := range all {
		if town.CanSeeHousehold(s, &all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// LinkRefusal is an imported row not linked, and why.
type LinkRefusal struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// Import links the households of rows (numbered from first), each checked
// as the directory's are; a household linked before moves to the row's
// cadre. It returns how many were linked and the rows refused.
func (b *LinkBook) Import(ctx context.Context, by *Staff, rows []LinkedHousehold, first int) (int, []LinkRefusal, error) {
	if err := PermitLinkImport(by); err != nil {
		return 0, nil, err
	}
	town := b.Town.Town()
	all, err := b.All(ctx)
	if err != nil {
		return 0, nil, err
	}
	per := map[string]int{}
	owner := map[string]string{}
	for _, h := range all {
		per[h.Cadre]++
		owner[h.ID] = h.Cadre
	}
	linked, refused := 0, []LinkRefusal{}
	seen := map[string]bool{}
	for i, h := range rows {
		row := first + i
		if err := town.checkLink(&h); err != nil {
			refused = append(refused, LinkRefusal{Row: row, Reason: err.Error()})
			continue
		}
		if seen[h.ID] {
			refused = append(refused, LinkRefusal{Row: row, Reason: "表中这户重复"})
			continue
		}
		seen[h.ID] = true
		if owner[h.ID] != h.Cadre && per[h.Cadre] >= MaxLinkedPerCadre {
			refused = append(refused, LinkRefusal{Row: row, Reason: fmt.Sprintf("%s包联的农户已达%d户", staffName(town, h.Cadre), MaxLinkedPerCadre)})
			continue
		}
		raw, err := json.Marshal(h)
		if err != nil {
			return linked, refused, fmt.Errorf("import links: %w", err)
		}
		if err := b.Records.PutRecord(ctx, nsLinked, h.ID, raw); err != nil {
			return linked, refused, fmt.Errorf("import links: %w", err)
		}
		if prev, ok := owner[h.ID]; ok && prev != h.Cadre {
			per[prev]--
		}
		if owner[h.ID] != h.Cadre {
			per[h.Cadre]++
		}
		owner[h.ID] = h.Cadre
		linked++
	}
	return linked, refused, nil
}

// Match finds the linked household case c comes from: the same phone as
// the household's registered resident, or the same address, in the
// household's village. nil when none does (or c is a patrol report).
func (b *LinkBook) Match(ctx context.Context, c *Case) (*LinkedHousehold, error) {
	if c.Resident == "" || c.Household != "" {
		return nil, nil
	}
	all, err := b.All(ctx)
	if err != nil {
		return nil, err
	}
	phone, addr := normalPhone(c.Phone), normalAddress(c.Address)
	for i := range all {
		h := &all[i]
		if h.Village != c.Village {
			continue
		}
		if (phone != "" && normalPhone(h.Phone) == phone) || (addr != "" && normalAddress(h.Address) == addr) {
			return h, nil
		}
	}
	return nil, nil
}

// LinkHousehold marks case number as coming from linked household h, with
// the event the router pushes to its cadre. ErrNoChange: marked already.
func (l *Ledger) LinkHousehold(ctx context.Context, number string, h *LinkedHousehold) (Case, []Event, error) {
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if c.Household != "" {
			return nil, ErrNoChange
		}
		c.Household = h.ID
		return []Event{{Kind: EventHouseholdLinked, Actor: ActorSystem, At: l.now(), Text: h.Label(),
			Data: map[string]string{DataHousehold: h.ID, DataCadre: h.Cadre}}}, nil
	})
}

// Visit is one visit of a cadre to a linked household (走访): what they
// found, and the case it became, if any.
type Visit struct {
	ID        string    `json:"id"`
	Household string    `json:"household"`
	Cadre     string    `json:"cadre"`
	Village   string    `json:"village"`
	Grid      string    `json:"grid"`
	At        time.Time `json:"at"`
	Month     string    `json:"month"` // "2006-01" in the town's zone: the counters' cell
	Found     string    `json:"found"`
	Case      string    `json:"case,omitempty"`
	// Key names this one recording, so a retry records one visit.
	Key string `json:"key,omitempty"`
}

// VisitCell is a cell of the visits' counters: one cadre's visits in one
// grid in one month.
type VisitCell struct {
	Month   string
	Village string
	Grid    string
	Cadre   string
}

// Key is the cell as stores keep it.
func (c VisitCell) Key() string {
	return c.Month + cellSep + c.Village + cellSep + c.Grid + cellSep + c.Cadre
}

// ParseVisitCell reads a cell's Key back.
func ParseVisitCell(key string) (VisitCell, bool) {
	p := strings.Split(key, cellSep)
	if len(p) != 4 {
		return VisitCell{}, false
	}
	return VisitCell{Month: p[0], Village: p[1], Grid: p[2], Cadre: p[3]}, true
}

// CellOf is the counters' cell of visit v.
func (v *Visit) CellOf() VisitCell {
	return VisitCell{Month: v.Month, Village: v.Village, Grid: v.Grid, Cadre: v.Cadre}
}

// VisitStore keeps the visits. AddVisit writes the visit, its place in its
// household's list and one more on its cell's counter in one atomic write,
// so the figures cost the cells, never the visits.
type VisitStore interface {
	// AddVisit stores v (ID set). If a visit by the same cadre with the
	// same Key is stored, it writes nothing and returns that one and
	// false.
	AddVisit(ctx context.Context, v Visit) (Visit, bool, error)
	// HouseholdVisits lists a household's visits, newest first, at most
	// limit.
	HouseholdVisits(ctx context.Context, household string, limit int) ([]Visit, error)
	// VisitCounts returns the counters of every cell.
	VisitCounts(ctx context.Context) (map[VisitCell]int, error)
}

// Visits records the cadres' visits.
type Visits struct {
	Links  *LinkBook
	Store  VisitStore
	Ledger *Ledger
}

// VisitReport is what a cadre records of a visit.
type VisitReport struct {
	Household string
	Found     string
	// Case asks for what was found to be filed as a patrol report on the
	// household's grid, in Category ("" guessed by the caller first).
	Case     bool
	Category string
	// Key names this recording (a retry records one visit, files one case).
	Key string
}

// MaxVisitKey bounds a visit's Key.
const MaxVisitKey = 64

// Record records staff's visit: the policy's refusal when the household
// is not theirs (or unknown to them); ErrInvalid for nothing found, too
// much, or an unknown category. When r.Case asks, the case is filed first,
// with a key derived from r.Key, so a retry after a failure files it once
// and records the visit with it.
func (v *Visits) Record(ctx context.Context, staff string, r VisitReport) (Visit, *Case, error) {
	town := v.Links.Town.Town()
	s := town.StaffMember(staff)
	h, err := v.Links.Household(ctx, r.Household)
	if err != nil {
		return Visit{}, nil, err
	}
	if err := town.PermitVisit(s, h); err != nil {
		return Visit{}, nil, fmt.Errorf("visit by %q: %w", staff, err)
	}
	found := strings.TrimSpace(r.Found)
	if found == "" || len([]rune(found)) > MaxTextLen || len(r.Key) > MaxVisitKey {
		return Visit{}, nil, fmt.Errorf("visit: %w", ErrInvalid)
	}
	key := r.Key
	if key == "" {
		key = newVisitID()
	}
	var c *Case
	number := ""
	if r.Case {
		filed, err := v.Ledger.patrol(ctx, staff, Draft{Category: r.Category, Text: found, Grid: h.Grid, Key: "visit:" + key}, h.ID)
		if err != nil {
			return Visit{}, nil, fmt.Errorf("visit: %w", err)
		}
		c, number = &filed, filed.Number
	}
	now := v.Ledger.now().In(town.Zone())
	visit := Visit{ID: newVisitID(), Household: h.ID, Cadre: staff, Village: h.Village, Grid: h.Grid, At: now,
		Month: town.MonthKey(now), Found: found, Case: number, Key: key}
	stored, _, err := v.Store.AddVisit(ctx, visit)
	if err != nil {
		return Visit{}, nil, fmt.Errorf("visit: %w", err)
	}
	return stored, c, nil
}

func newVisitID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "V" + hex.EncodeToString(b)
}

// VisitRow counts visits in one unit (cadre, grid, village or month).
type VisitRow struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Visits int    `json:"visits"`
}

// ByCadre groups the visits by cadre.
const ByCadre Grouping = "cadre"

// VisitFigures groups the visits' counters by by (ByCadre, ByGrid,
// ByVillage or ByMonth), in the scope's sight, in key order (months newest
// first) with a total row keyed "total".
func VisitFigures(town *Town, counts map[VisitCell]int, scope FigureScope, by Grouping) []VisitRow {
	rows := map[string]*VisitRow{}
	total := &VisitRow{Key: "total", Name: "合计"}
	for cell, n := range counts {
		if n == 0 || !scope.sees(cell.Village, cell.Grid) || scope.Department != "" {
			continue
		}
		var key, name string
		switch by {
		case ByCadre:
			key, name = cell.Cadre, staffName(town, cell.Cadre)
		case ByMonth:
			key = cell.Month
		case ByVillage:
			key = cell.Village
		default:
			key = cell.Grid
		}
		if name == "" {
			name = unitName(town, by, key)
		}
		r := rows[key]
		if r == nil {
			r = &VisitRow{Key: key, Name: name}
			rows[key] = r
		}
		r.Visits += n
		total.Visits += n
	}
	return sortedWithTotal(rows, *total, by, func(r VisitRow) string { return r.Key })
}
