package core

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Namespaces of the StaffBook's records.
const (
	nsStaffAccounts = "staff-accounts" // staff ID → StaffAccount (JSON)
	nsGridPosts     = "grid-posts"     // grid ID → GridPosts (JSON)
	nsStaffAudit    = "staff-audit"    // time + target → StaffChange (JSON)
)

// StaffChange is one line of the staff administration's audit trail: who
// changed what, when. It never holds a password or its hash.
type StaffChange struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // a staff ID, or "cli" for the command line
	Action string    `json:"action"` // add, update, set-post
	Target string    `json:"target"` // a staff or grid ID
	Detail string    `json:"detail,omitempty"`
}

// StaffAccount is a staff member as the town administers them at runtime:
// it adds to, or replaces the same fields of, the directory's entry with the
// same ID. The directory's openid and away flag stay as configured.
type StaffAccount struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Role         Role   `json:"role"`
	Village      string `json:"village,omitempty"`
	Department   string `json:"department,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
	Disabled     bool   `json:"disabled,omitempty"`
	// PasswordSetAt dates the password (PasswordPolicy.MaxAge);
	// PasswordHistory are the hashes it replaced, newest first, as many
	// as the policy remembers (password.go).
	PasswordSetAt   time.Time `json:"password_set_at,omitzero"`
	PasswordHistory []string  `json:"password_history,omitempty"`
}

// GridPosts names who holds posts A and B of a grid, replacing the
// directory's leader_a and leader_b.
type GridPosts struct {
	A string `json:"a"`
	B string `json:"b"`
}

// StaffBook is the town directory with the staff changes made at runtime
// (on the console or with `gridbot staff …`) laid over it. It is a
// TownSource: everything that reads the town through it — visibility, login,
// assignment, chat commands — sees one and the same staff. The changes are
// durable records; the merged Town is built when they change and when the
// directory behind it is reloaded, never on a read.
//
// Another instance's changes arrive with Refresh. Build one with
// NewStaffBook.
type StaffBook struct {
	directory TownSource
	records   Records
	// Now stamps the audit trail; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	accounts map[string]StaffAccount
	posts    map[string]GridPosts
	base     *Town // the directory Town that merged was built on
	merged   *Town
}

// NewStaffBook reads the runtime staff records and lays them over dir.
func NewStaffBook(ctx context.Context, dir TownSource, records Records) (*StaffBook, error) {
	b := &StaffBook{directory: dir, records: records}
	if err := b.Refresh(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Refresh reads the records again: what another instance or the command
// line changed since.
func (b *StaffBook) Refresh(ctx context.Context) error {
	accounts, err := readJSONRecords[StaffAccount](ctx, b.records, nsStaffAccounts)
	if err != nil {
		return err
	}
	posts, err := readJSONRecords[GridPosts](ctx, b.records, nsGridPosts)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts, b.posts = accounts, posts
	b.merged = nil
	return nil
}

func readJSONRecords[T any](ctx context.Context, r Records, ns string) (map[string]T, error) {
	raw, err := r.RecordsIn(ctx, ns)
	if err != nil {
		return nil, fmt.Errorf("staff book: read %s: %w", ns, err)
	}
	out := make(map[string]T, len(raw))
	for k, v := range raw {
		var t T
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, fmt.Errorf("staff book: record %s/%s: %w", ns, k, err)
		}
		out[k] = t
	}
	return out, nil
}

// Town returns the directory with the runtime changes laid over it. Should
// a reloaded directory no longer fit a change (a village it names is gone),
// the changes that do not fit are left out rather than the whole directory
// refused.
func (b *StaffBook) Town() *Town {
	dir := b.directory.Town()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.merged != nil && b.base == dir {
		return b.merged
	}
	t, err := merge(dir, b.accounts, b.posts)
	if err != nil {
		if t, err = merge(dir, b.accounts, nil); err != nil {
			t = dir
		}
	}
	b.base, b.merged = dir, t
	return t
}

// merge builds the Town of dir with accounts and posts laid over it.
func merge(dir *Town, accounts map[string]StaffAccount, posts map[string]GridPosts) (*Town, error) {
	t := *dir
	t.Staff = make([]Staff, 0, len(dir.Staff)+len(accounts))
	seen := map[string]bool{}
	for _, s := range dir.Staff {
		if a, ok := accounts[s.ID]; ok {
			s.Name, s.Role, s.Village, s.Department = a.Name, a.Role, a.Village, a.Department
			s.PasswordHash, s.Disabled = a.PasswordHash, a.Disabled
			s.PasswordSetAt, s.PasswordHistory = a.PasswordSetAt, a.PasswordHistory
		}
		seen[s.ID] = true
		t.Staff = append(t.Staff, s)
	}
	ids := make([]string, 0, len(accounts))
	for id := range accounts {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := accounts[id]
		t.Staff = append(t.Staff, Staff{ID: id, Name: a.Name, Role: a.Role, Village: a.Village,
			Department: a.Department, PasswordHash: a.PasswordHash, Disabled: a.Disabled,
			PasswordSetAt: a.PasswordSetAt, PasswordHistory: a.PasswordHistory})
	}
	t.Grids = append([]Grid(nil), dir.Grids...)
	for i := range t.Grids {
		if p, ok := posts[t.Grids[i].ID]; ok {
			t.Grids[i].LeaderA, t.Grids[i].LeaderB = p.A, p.B
		}
	}
	return NewTown(t)
}

// Account returns staff id as the book holds them now, or ErrNotFound.
func (b *StaffBook) Account(id string) (StaffAccount, error) {
	s := b.Town().StaffMember(id)
	if s == nil {
		return StaffAccount{}, fmt.Errorf("staff %q: %w", id, ErrNotFound)
	}
	return StaffAccount{ID: s.ID, Name: s.Name, Role: s.Role, Village: s.Village, Department: s.Department,
		PasswordHash: s.PasswordHash, Disabled: s.Disabled, PasswordSetAt: s.PasswordSetAt,
		PasswordHistory: s.PasswordHistory}, nil
}

// AddStaff creates a staff account. ErrConflict: the ID is taken; ErrInvalid:
// the account does not fit the directory (unknown village, a village role
// without a village …).
func (b *StaffBook) AddStaff(ctx context.Context, actor string, a StaffAccount) error {
	a.ID, a.Name = strings.TrimSpace(a.ID), strings.TrimSpace(a.Name)
	if !validStaffID(a.ID) {
		return fmt.Errorf("add staff %q: id: %w", a.ID, ErrInvalid)
	}
	if b.Town().StaffMember(a.ID) != nil {
		return fmt.Errorf("add staff %q: %w", a.ID, ErrConflict)
	}
	return b.putAccount(ctx, StaffChange{Actor: actor, Action: "add", Target: a.ID, Detail: string(a.Role)}, a)
}

// UpdateStaff changes staff id with edit: its name, role, password hash,
// disabled flag. what says in a word what changed, for the audit trail
// (never the password). ErrNotFound, or ErrInvalid when the result does not
// fit.
func (b *StaffBook) UpdateStaff(ctx context.Context, actor, id, what string, edit func(*StaffAccount)) error {
	a, err := b.Account(id)
	if err != nil {
		return err
	}
	edit(&a)
	a.ID = id
	return b.putAccount(ctx, StaffChange{Actor: actor, Action: "update", Target: id, Detail: what}, a)
}

// putAccount checks that a fits, writes it, and rebuilds the merged Town.
func (b *StaffBook) putAccount(ctx context.Context, audit StaffChange, a StaffAccount) error {
	if strings.TrimSpace(a.Name) == "" || len([]rune(a.Name)) > 40 {
		return fmt.Errorf("staff %q: name: %w", a.ID, ErrInvalid)
	}
	return b.change(ctx, audit, func(accounts map[string]StaffAccount, _ map[string]GridPosts) (string, string, any) {
		accounts[a.ID] = a
		return nsStaffAccounts, a.ID, a
	})
}

// SetPost puts staff id on post A or B of grid. The holder must be an
// enabled grid leader. ErrNotFound: no such grid; ErrInvalid: not a grid
// leader, or an unknown post.
func (b *StaffBook) SetPost(ctx context.Context, actor, grid string, post Post, id string) error {
	town := b.Town()
	g := town.Grid(grid)
	if g == nil {
		return fmt.Errorf("set post of %q: %w", grid, ErrNotFound)
	}
	s := town.StaffMember(id)
	if s == nil || s.Disabled || s.Role != RoleGridLeader {
		return fmt.Errorf("set post of %q to %q: not an enabled grid leader: %w", grid, id, ErrInvalid)
	}
	p := GridPosts{A: g.LeaderA, B: g.LeaderB}
	switch post {
	case PostA:
		p.A = id
	case PostB:
		p.B = id
	default:
		return fmt.Errorf("set post %q: %w", post, ErrInvalid)
	}
	audit := StaffChange{Actor: actor, Action: "set-post", Target: grid, Detail: string(post) + "=" + id}
	return b.change(ctx, audit, func(_ map[string]StaffAccount, posts map[string]GridPosts) (string, string, any) {
		posts[grid] = p
		return nsGridPosts, grid, p
	})
}

// change applies edit to copies of the records, checks that the merged
// Town builds, then writes the one record edit names and keeps the result.
func (b *StaffBook) change(ctx context.Context, audit StaffChange, edit func(map[string]StaffAccount, map[string]GridPosts) (ns, key string, value any)) error {
	dir := b.directory.Town()
	b.mu.Lock()
	defer b.mu.Unlock()
	accounts := make(map[string]StaffAccount, len(b.accounts)+1)
	for k, v := range b.accounts {
		accounts[k] = v
	}
	posts := make(map[string]GridPosts, len(b.posts)+1)
	for k, v := range b.posts {
		posts[k] = v
	}
	ns, key, value := edit(accounts, posts)
	merged, err := merge(dir, accounts, posts)
	if err != nil {
		return fmt.Errorf("staff book: %v: %w", err, ErrInvalid)
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("staff book: encode: %w", err)
	}
	if err := b.records.PutRecord(ctx, ns, key, raw); err != nil {
		return fmt.Errorf("staff book: write %s/%s: %w", ns, key, err)
	}
	b.accounts, b.posts, b.base, b.merged = accounts, posts, dir, merged
	audit.At = b.now()
	if line, err := json.Marshal(audit); err == nil {
		key := audit.At.UTC().Format("20060102T150405.000000000Z") + " " + audit.Target
		if err := b.records.PutRecord(ctx, nsStaffAudit, key, line); err != nil {
			return fmt.Errorf("staff book: audit: %w", err)
		}
	}
	return nil
}

func (b *StaffBook) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Changes returns the audit trail of staff administration, newest first.
func (b *StaffBook) Changes(ctx context.Context) ([]StaffChange, error) {
	m, err := readJSONRecords[StaffChange](ctx, b.records, nsStaffAudit)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys))) // keys start with the time
	out := make([]StaffChange, 0, len(m))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out, nil
}

// validStaffID reports whether id can be a login: 2–32 letters, digits, -
// and _.
func validStaffID(id string) bool {
	if len(id) < 2 || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
