package core

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// GridKind tells a large grid (大网格) from a micro grid (微网格).
type GridKind string

// The two kinds of grid in the sample town.
const (
	GridLarge GridKind = "large"
	GridMicro GridKind = "micro"
)

// Point is a WGS-84 coordinate as WeChat reports it (Location_X is latitude).
type Point struct {
	Lat float64 `json:"lat" yaml:"lat"`
	Lng float64 `json:"lng" yaml:"lng"`
}

// Village is a village or urban community (村/社区), the middle level.
type Village struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// RobotWebhook is the village team's WeCom group robot (消息推送):
	// the URL with its key, which is a secret.
	RobotWebhook string `json:"-" yaml:"robot_webhook"`
}

// Grid is the smallest unit of responsibility (网格). Its leader sits on post A
// and a backup on post B (AB岗).
type Grid struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     GridKind `json:"kind"`
	Village  string   `json:"village"`
	Boundary []Point  `json:"boundary,omitempty"`
	LeaderA  string   `json:"leader_a"`
	LeaderB  string   `json:"leader_b"`
	// RobotWebhook is the grid team's WeCom group robot (消息推送): the
	// URL with its key, which is a secret. RobotEachCase asks for each new
	// case there besides the morning digest.
	RobotWebhook  string `json:"-"`
	RobotEachCase bool   `json:"-"`
}

// Department is a town office a grid can whistle up (城建办, 派出所 …).
type Department struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Role says what a staff member may see and do.
type Role string

// Staff roles, from the widest view to the narrowest.
const (
	RoleTown       Role = "town"
	RoleVillage    Role = "village"
	RoleDepartment Role = "department"
	RoleGridLeader Role = "grid"
	// The three administrators (三权分立, policy.go): they work no case.
	RoleSysAdmin   Role = "sysadmin" // 系统管理员
	RoleAuditAdmin Role = "auditor"  // 审计管理员
	RoleSecAdmin   Role = "security" // 安全管理员
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleTown, RoleVillage, RoleDepartment, RoleGridLeader, RoleSysAdmin, RoleAuditAdmin, RoleSecAdmin:
		return true
	}
	return false
}

// Post is a staff member's seat on a grid: A is the leader, B the backup.
type Post string

// The two posts of every duty (AB岗).
const (
	PostA Post = "A"
	PostB Post = "B"
)

// Staff is a person who works cases: a grid leader, village or town cadre, or
// department officer. Addresses are where the directory says they are
// reached (their WeChat openid, their WeCom userid; a bind code adds more,
// see Roster); PasswordHash (bcrypt) lets them log in to the console.
type Staff struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Role      Role               `json:"role"`
	Addresses map[Channel]string `json:"-"`
	// Prefers is the channel tried first; "" leaves the order to the
	// wiring (WeCom first where it runs).
	Prefers      Channel `json:"prefers,omitempty"`
	Village      string  `json:"village,omitempty"`
	Department   string  `json:"department,omitempty"`
	PasswordHash string  `json:"-"`
	// PasswordSetAt and PasswordHistory are the account's (StaffAccount).
	PasswordSetAt   time.Time `json:"-"`
	PasswordHistory []string  `json:"-"`
	Away            bool      `json:"away,omitempty"`
	Disabled        bool      `json:"disabled,omitempty"`
}

// Address returns the directory's address of s on ch, or "".
func (s *Staff) Address(ch Channel) string { return s.Addresses[ch] }

// Category is one line of the 事项准入清单: a kind of matter the grids accept,
// with its deadline and the department that leads on it.
//
// The deadline is DeadlineHours on the clock, or DeadlineWorkdays working
// days by the town's calendar; exactly one of them is set. AcceptMinutes is
// how long post A has to accept a new case before it goes to post B as
// well; zero means the ledger's default.
type Category struct {
	Code             string `json:"code"`
	Name             string `json:"name"`
	DeadlineHours    int    `json:"deadline_hours,omitempty"`
	DeadlineWorkdays int    `json:"deadline_workdays,omitempty"`
	AcceptMinutes    int    `json:"accept_minutes,omitempty"`
	Department       string `json:"department,omitempty"`
	// NeverPublish keeps every case of the category off the public record:
	// its description is never published (公开), whatever staff write.
	NeverPublish bool `json:"never_publish,omitempty"`
	// UrgentHours is the term of a case flagged urgent (加急), from the
	// flag; 0 gives half the ordinary term (urge.go).
	UrgentHours int `json:"urgent_hours,omitempty"`
	// Cues are the words and phrases that point to this category in what
	// residents write, each with a weight (see Cue).
	Cues []Cue `json:"-"`
}

// Town is the whole directory: villages, grids, departments, staff and the
// category list. It is configuration, read-only once built; a reload builds a
// new Town. Build it with NewTown so the indexes are filled and the links
// checked.
type Town struct {
	Name        string
	CasePrefix  string
	Villages    []Village
	Grids       []Grid
	Departments []Department
	Staff       []Staff
	Categories  []Category
	// Landmarks are names of places residents mention besides villages
	// and grids (bridges, markets, temples); like them, they never count
	// toward a category (see WithoutPlaceNames).
	Landmarks []string
	// Lexicon reads the colloquial words residents write (written
	// Cantonese) as Mandarin before their words are understood; nil reads
	// nothing differently.
	Lexicon *Lexicon
	// Calendar lists holidays and make-up workdays for deadlines counted
	// in working days.
	Calendar Calendar
	// TimeZone is the IANA name of the zone the town lives in: days,
	// deadlines, case numbers and every time people read are reckoned in
	// it whatever the server's or the browser's zone. "" is DefaultTimeZone.
	TimeZone string
	// Linked are the households the directory links cadres to (二十户包联,
	// linked.go); NewTown fills their IDs and villages.
	Linked []LinkedHousehold

	zone        *time.Location
	villages    map[string]*Village
	grids       map[string]*Grid
	departments map[string]*Department
	staff       map[string]*Staff
	byAddress   map[Address]*Staff
	categories  map[string]*Category
}

// TownSource hands out the town directory in force now. Holders call it each
// time instead of keeping the *Town, so a reload takes effect everywhere.
type TownSource interface {
	Town() *Town
}

// Town lets a fixed *Town serve as its own TownSource.
func (t *Town) Town() *Town { return t }

// NewTown indexes t and checks that every reference in it resolves. The error
// names the first broken entry.
func NewTown(t Town) (*Town, error) {
	t.villages = make(map[string]*Village, len(t.Villages))
	t.grids = make(map[string]*Grid, len(t.Grids))
	t.departments = make(map[string]*Department, len(t.Departments))
	t.staff = make(map[string]*Staff, len(t.Staff))
	t.byAddress = make(map[Address]*Staff, len(t.Staff))
	t.categories = make(map[string]*Category, len(t.Categories))
	if strings.TrimSpace(t.Name) == "" {
		return nil, fmt.Errorf("town: name is empty")
	}
	if t.CasePrefix == "" || !isUpperAlnum(t.CasePrefix) || len(t.CasePrefix) > 6 {
		return nil, fmt.Errorf("town: case_prefix %q must be 1-6 capital letters or digits", t.CasePrefix)
	}
	for i := range t.Villages {
		v := &t.Villages[i]
		if v.ID == "" || v.Name == "" {
			return nil, fmt.Errorf("villages[%d]: id and name are required", i)
		}
		if t.villages[v.ID] != nil {
			return nil, fmt.Errorf("villages[%d]: duplicate id %q", i, v.ID)
		}
		t.villages[v.ID] = v
	}
	for i := range t.Departments {
		d := &t.Departments[i]
		if d.ID == "" || d.Name == "" {
			return nil, fmt.Errorf("departments[%d]: id and name are required", i)
		}
		if t.departments[d.ID] != nil {
			return nil, fmt.Errorf("departments[%d]: duplicate id %q", i, d.ID)
		}
		t.departments[d.ID] = d
	}
	for i := range t.Staff {
		s := &t.Staff[i]
		if s.ID == "" || s.Name == "" {
			return nil, fmt.Errorf("staff[%d]: id and name are required", i)
		}
		if !s.Role.Valid() {
			return nil, fmt.Errorf("staff %q: unknown role %q", s.ID, s.Role)
		}
		if t.staff[s.ID] != nil {
			return nil, fmt.Errorf("staff %q: duplicate id", s.ID)
		}
		if s.Village != "" && t.villages[s.Village] == nil {
			return nil, fmt.Errorf("staff %q: unknown village %q", s.ID, s.Village)
		}
		if s.Role == RoleVillage && s.Village == "" {
			return nil, fmt.Errorf("staff %q: a village role needs a village", s.ID)
		}
		if s.Department != "" && t.departments[s.Department] == nil {
			return nil, fmt.Errorf("staff %q: unknown department %q", s.ID, s.Department)
		}
		if s.Role == RoleDepartment && s.Department == "" {
			return nil, fmt.Errorf("staff %q: a department role needs a department", s.ID)
		}
		t.staff[s.ID] = s
		for ch, id := range s.Addresses {
			if id == "" {
				continue
			}
			if strings.Contains(id, ":") || strings.TrimSpace(id) != id {
				return nil, fmt.Errorf("staff %q: %s address %q must have no colon or spaces", s.ID, ch, id)
			}
			a := Address{Channel: ch, ID: id}
			if other := t.byAddress[a]; other != nil {
				return nil, fmt.Errorf("staff %q: %s address %q already used by %q", s.ID, ch, id, other.ID)
			}
			t.byAddress[a] = s
		}
	}
	for i := range t.Grids {
		g := &t.Grids[i]
		if g.ID == "" || g.Name == "" {
			return nil, fmt.Errorf("grids[%d]: id and name are required", i)
		}
		if t.grids[g.ID] != nil {
			return nil, fmt.Errorf("grids[%d]: duplicate id %q", i, g.ID)
		}
		if g.Kind != GridLarge && g.Kind != GridMicro {
			return nil, fmt.Errorf("grid %q: kind %q must be large or micro", g.ID, g.Kind)
		}
		if t.villages[g.Village] == nil {
			return nil, fmt.Errorf("grid %q: unknown village %q", g.ID, g.Village)
		}
		if len(g.Boundary) > 0 && len(g.Boundary) < 3 {
			return nil, fmt.Errorf("grid %q: a boundary needs at least 3 points", g.ID)
		}
		for _, post := range []struct {
			p  Post
			id string
		}{{PostA, g.LeaderA}, {PostB, g.LeaderB}} {
			s := t.staff[post.id]
			if s == nil {
				return nil, fmt.Errorf("grid %q: post %s names unknown staff %q", g.ID, post.p, post.id)
			}
			if s.Role != RoleGridLeader {
				return nil, fmt.Errorf("grid %q: post %s holder %q has role %q, want grid", g.ID, post.p, s.ID, s.Role)
			}
		}
		t.grids[g.ID] = g
	}
	for i := range t.Categories {
		c := &t.Categories[i]
		if c.Code == "" || c.Name == "" {
			return nil, fmt.Errorf("categories[%d]: code and name are required", i)
		}
		if t.categories[c.Code] != nil {
			return nil, fmt.Errorf("categories[%d]: duplicate code %q", i, c.Code)
		}
		if (c.DeadlineHours > 0) == (c.DeadlineWorkdays > 0) || c.DeadlineHours < 0 || c.DeadlineWorkdays < 0 {
			return nil, fmt.Errorf("category %q: set one of deadline_hours or deadline_workdays, positive", c.Code)
		}
		if c.AcceptMinutes < 0 {
			return nil, fmt.Errorf("category %q: accept_minutes must not be negative", c.Code)
		}
		if c.UrgentHours < 0 || (c.DeadlineHours > 0 && c.UrgentHours > c.DeadlineHours) {
			return nil, fmt.Errorf("category %q: urgent_hours must be positive and within deadline_hours", c.Code)
		}
		if c.Department != "" && t.departments[c.Department] == nil {
			return nil, fmt.Errorf("category %q: unknown department %q", c.Code, c.Department)
		}
		t.categories[c.Code] = c
	}
	if len(t.Categories) == 0 {
		return nil, fmt.Errorf("categories: the list is empty")
	}
	if t.TimeZone == "" {
		t.TimeZone = DefaultTimeZone
	}
	zone, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time_zone %q: %w", t.TimeZone, err)
	}
	t.zone = zone
	if err := t.Calendar.index(zone); err != nil {
		return nil, err
	}
	if err := t.checkLinked(); err != nil {
		return nil, err
	}
	return &t, nil
}

// DefaultTimeZone is the zone of a town that names none.
const DefaultTimeZone = "Asia/Shanghai"

// Zone is the town's time zone (Town.TimeZone).
func (t *Town) Zone() *time.Location {
	if t.zone == nil {
		return chinaStandardTime() // a Town not built by NewTown
	}
	return t.zone
}

// chinaStandardTime is Asia/Shanghai without the zone database: UTC+8 all
// year, as China has kept since 1991.
func chinaStandardTime() *time.Location { return time.FixedZone("CST", 8*3600) }

// MonthKey names the month of t in the town's zone: 2026-11.
func (t *Town) MonthKey(at time.Time) string { return at.In(t.Zone()).Format("2006-01") }

// MonthBounds returns the start and end (exclusive) of month "2006-01" in
// the town's zone; ok is false when month is malformed.
func (t *Town) MonthBounds(month string) (start, end time.Time, ok bool) {
	start, err := time.ParseInLocation("2006-01", month, t.Zone())
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return start, start.AddDate(0, 1, 0), true
}

func isUpperAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Village returns the village with id, or nil.
func (t *Town) Village(id string) *Village { return t.villages[id] }

// Grid returns the grid with id, or nil.
func (t *Town) Grid(id string) *Grid { return t.grids[id] }

// Department returns the department with id, or nil.
func (t *Town) Department(id string) *Department { return t.departments[id] }

// StaffMember returns the staff member with id, or nil.
func (t *Town) StaffMember(id string) *Staff { return t.staff[id] }

// StaffAt returns the staff member the directory gives address a, or nil.
func (t *Town) StaffAt(a Address) *Staff { return t.byAddress[a] }

// Category returns the category with code, or nil.
func (t *Town) Category(code string) *Category { return t.categories[code] }

// GridsOf lists the grids of a village in directory order.
func (t *Town) GridsOf(village string) []Grid {
	var out []Grid
	for _, g := range t.Grids {
		if g.Village == village {
			out = append(out, g)
		}
	}
	return out
}

// GridAt finds the grid whose boundary contains p. Where boundaries overlap the
// micro grid wins, being the finer responsibility.
func (t *Town) GridAt(p Point) (*Grid, bool) {
	var found *Grid
	for i := range t.Grids {
		g := &t.Grids[i]
		if !g.Contains(p) {
			continue
		}
		if found == nil || (found.Kind == GridLarge && g.Kind == GridMicro) {
			found = g
		}
	}
	return found, found != nil
}

// Contains reports whether p lies inside the grid's boundary (ray casting).
func (g *Grid) Contains(p Point) bool {
	b := g.Boundary
	if len(b) < 3 {
		return false
	}
	inside := false
	for i, j := 0, len(b)-1; i < len(b); j, i = i, i+1 {
		if (b[i].Lat > p.Lat) != (b[j].Lat > p.Lat) &&
			p.Lng < (b[j].Lng-b[i].Lng)*(p.Lat-b[i].Lat)/(b[j].Lat-b[i].Lat)+b[i].Lng {
			inside = !inside
		}
	}
	return inside
}

// Responsible says who takes a new case in grid g: the A post, or the B post
// when A is away or disabled. ok is false when neither can.
func (t *Town) Responsible(g *Grid) (s *Staff, post Post, ok bool) {
	return t.ResponsibleUnless(g, nil)
}

// ResponsibleUnless is Responsible with the leave taken outside the
// directory: away reports the staff IDs on leave (nil: none).
func (t *Town) ResponsibleUnless(g *Grid, away map[string]bool) (s *Staff, post Post, ok bool) {
	if a := t.staff[g.LeaderA]; a != nil && !a.Away && !away[a.ID] && !a.Disabled {
		return a, PostA, true
	}
	if b := t.staff[g.LeaderB]; b != nil && !b.Disabled {
		return b, PostB, true
	}
	return nil, "", false
}

// GridsLedBy lists the IDs of the grids where staff id holds post A or B.
func (t *Town) GridsLedBy(id string) []string {
	var out []string
	for _, g := range t.Grids {
		if g.LeaderA == id || g.LeaderB == id {
			out = append(out, g.ID)
		}
	}
	sort.Strings(out)
	return out
}

// PlaceName names where a grid is, for people: "村名 · 网格名".
func (t *Town) PlaceName(gridID string) string {
	g := t.grids[gridID]
	if g == nil {
		return ""
	}
	if v := t.villages[g.Village]; v != nil {
		return v.Name + " · " + g.Name
	}
	return g.Name
}

// DepartmentByName finds a department by its name or ID, as staff type it
// ("城建办", "城建"). A part of a name matches when it matches one only.
func (t *Town) DepartmentByName(name string) *Department {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	var found *Department
	for i := range t.Departments {
		d := &t.Departments[i]
		if d.Name == name || d.ID == name {
			return d
		}
		if strings.Contains(d.Name, name) {
			if found != nil {
				return nil
			}
			found = d
		}
	}
	return found
}

// StaffWhere lists the enabled staff for whom keep is true, in directory
// order.
func (t *Town) StaffWhere(keep func(*Staff) bool) []*Staff {
	var out []*Staff
	for i := range t.Staff {
		if s := &t.Staff[i]; !s.Disabled && keep(s) {
			out = append(out, s)
		}
	}
	return out
}
