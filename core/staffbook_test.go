package core

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
)

// memRecords is Records in memory.
type memRecords struct {
	mu sync.Mutex
	m  map[string]map[string][]byte
}

func (r *memRecords) Record(_ context.Context, ns, key string) ([]byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[ns][key]
	return v, ok, nil
}

func (r *memRecords) PutRecord(_ context.Context, ns, key string, value []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]map[string][]byte{}
	}
	if r.m[ns] == nil {
		r.m[ns] = map[string][]byte{}
	}
	r.m[ns][key] = value
	return nil
}

func (r *memRecords) DeleteRecord(_ context.Context, ns, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m[ns], key)
	return nil
}

func (r *memRecords) RecordsIn(_ context.Context, ns string) (map[string][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.m[ns]), nil
}

func TestStaffBook(t *testing.T) {
	ctx := context.Background()
	dir := figuresTown(t)
	recs := &memRecords{}
	book, err := NewStaffBook(ctx, dir, recs)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want error // nil, or the error it must wrap
	}{
		{"add a village cadre", func() error {
			return book.AddStaff(ctx, "admin", StaffAccount{ID: "c1", Name: "村干部", Role: RoleVillage, Village: "v1", PasswordHash: "h1"})
		}, nil},
		{"add a taken id", func() error {
			return book.AddStaff(ctx, "admin", StaffAccount{ID: "l1", Name: "重名", Role: RoleTown})
		}, ErrConflict},
		{"add with an unknown village", func() error {
			return book.AddStaff(ctx, "admin", StaffAccount{ID: "c2", Name: "错村", Role: RoleVillage, Village: "nowhere"})
		}, ErrInvalid},
		{"add a village role without a village", func() error {
			return book.AddStaff(ctx, "admin", StaffAccount{ID: "c3", Name: "无村", Role: RoleVillage})
		}, ErrInvalid},
		{"add a bad id", func() error {
			return book.AddStaff(ctx, "admin", StaffAccount{ID: "a b", Name: "空格", Role: RoleTown})
		}, ErrInvalid},
		{"add a grid leader", func() error {
			return book.AddStaff(ctx, "admin", StaffAccount{ID: "l3", Name: "丙", Role: RoleGridLeader})
		}, nil},
		{"put the new leader on post B of g1", func() error { return book.SetPost(ctx, "admin", "g1", PostB, "l3") }, nil},
		{"post for a village cadre", func() error { return book.SetPost(ctx, "admin", "g1", PostA, "c1") }, ErrInvalid},
		{"post of an unknown grid", func() error { return book.SetPost(ctx, "admin", "g9", PostA, "l3") }, ErrNotFound},
		{"turn a post holder into town staff", func() error {
			return book.UpdateStaff(ctx, "admin", "l3", "role", func(a *StaffAccount) { a.Role = RoleTown })
		}, ErrInvalid},
		{"disable a directory leader, reset a password", func() error {
			return book.UpdateStaff(ctx, "admin", "l1", "disable", func(a *StaffAccount) { a.Disabled, a.PasswordHash = true, "h2" })
		}, nil},
		{"update an unknown id", func() error {
			return book.UpdateStaff(ctx, "admin", "zz", "x", func(a *StaffAccount) {})
		}, ErrNotFound},
	}
	for _, s := range steps {
		err := s.do()
		if s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
			t.Errorf("%s: err %v, want %v", s.name, err, s.want)
		}
	}
	check := func(name string, town *Town) {
		t.Helper()
		if c := town.StaffMember("c1"); c == nil || c.Role != RoleVillage || c.PasswordHash != "h1" {
			t.Errorf("%s: c1 = %+v", name, c)
		}
		if l := town.StaffMember("l1"); l == nil || !l.Disabled || l.PasswordHash != "h2" || l.Name != "甲" {
			t.Errorf("%s: l1 = %+v", name, l)
		}
		if g := town.Grid("g1"); g.LeaderA != "l1" || g.LeaderB != "l3" {
			t.Errorf("%s: g1 posts %s/%s", name, g.LeaderA, g.LeaderB)
		}
		// Assignment and visibility follow the overlay: A is disabled, so B.
		if s, post, ok := town.Responsible(town.Grid("g1")); !ok || s.ID != "l3" || post != PostB {
			t.Errorf("%s: responsible %v %s %v", name, s, post, ok)
		}
		if !town.CanSee(town.StaffMember("l3"), &Case{Grid: "g1", Village: "v1"}) {
			t.Errorf("%s: the new B post cannot see its grid's case", name)
		}
		if town.StaffMember("c2") != nil || town.StaffMember("c3") != nil {
			t.Errorf("%s: a refused account was kept", name)
		}
	}
	check("same book", book.Town())
	changes, err := book.Changes(ctx)
	if err != nil || len(changes) != 4 || changes[0].Actor != "admin" || changes[len(changes)-1].Target != "c1" {
		t.Errorf("audit trail %+v (%v)", changes, err)
	}
	if dir.StaffMember("c1") != nil || dir.Grid("g1").LeaderB != "l2" {
		t.Error("the directory itself was changed")
	}
	// Another instance (or a restart) reads the same records.
	other, err := NewStaffBook(ctx, dir, recs)
	if err != nil {
		t.Fatal(err)
	}
	check("another book", other.Town())
	// A reloaded directory keeps the changes laid over it.
	reloaded, err := NewTown(*dir)
	if err != nil {
		t.Fatal(err)
	}
	src := &switchSource{t: dir}
	third, err := NewStaffBook(ctx, src, recs)
	if err != nil {
		t.Fatal(err)
	}
	src.t = reloaded
	check("reloaded directory", third.Town())
}

type switchSource struct{ t *Town }

func (s *switchSource) Town() *Town { return s.t }
