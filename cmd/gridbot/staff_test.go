package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/store/embedded"
)

// TestStaffCommands runs the staff subcommands one after another on one
// store file and checks what the store holds: the same staff book the
// console and serve read.
func TestStaffCommands(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gridbot.yaml")
	dbPath := filepath.Join(dir, "gridbot.db")
	cfg := "store:\n  path: " + dbPath + "\ntown:\n  directory: ../../configs/town.yaml\n  categories: ../../configs/categories.yaml\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := Run(context.Background(), append([]string{"staff"}, args...),
			Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errs})
		return out.String() + errs.String(), err
	}
	steps := []struct {
		name    string
		stdin   string
		args    []string
		wantErr bool
		wantOut string
	}{
		{"add a grid leader", "A-long-password1\n", []string{"add", "-config", cfgPath, "-id", "gl-new", "-name", "新网格员", "-role", "grid", "-village", "v10"}, false, "done"},
		{"add again", "A-long-password1\n", []string{"add", "-config", cfgPath, "-id", "gl-new", "-name", "又一个", "-role", "grid"}, true, ""},
		{"one kind of character", "onlylowercaseletters\n", []string{"add", "-config", cfgPath, "-id", "x", "-name", "x", "-role", "town"}, true, ""},
		{"short password", "short\n", []string{"add", "-config", cfgPath, "-id", "x", "-name", "x", "-role", "town"}, true, ""},
		{"unknown village", "A-long-password1\n", []string{"add", "-config", cfgPath, "-id", "c-x", "-name", "错村", "-role", "village", "-village", "v999"}, true, ""},
		{"set post B", "", []string{"set-post", "-config", cfgPath, "L10", "b", "gl-new"}, false, "done"},
		{"set post to a cadre", "", []string{"set-post", "-config", cfgPath, "L10", "A", "v10-cadre"}, true, ""},
		{"disable post A", "", []string{"disable", "-config", cfgPath, "gl-L10-a"}, false, "done"},
		{"reset a password", "Another-password2\n", []string{"reset-password", "-config", cfgPath, "gl-new"}, false, "done"},
		{"reset to the same password", "Another-password2\n", []string{"reset-password", "-config", cfgPath, "gl-new"}, true, ""},
		{"bind code", "", []string{"bind-code", "-config", cfgPath, "gl-new"}, false, "绑定"},
		{"list", "", []string{"list", "-config", cfgPath}, false, "gl-new"},
		{"unknown command", "", []string{"promote", "-config", cfgPath}, true, ""},
		{"missing argument", "", []string{"disable", "-config", cfgPath}, true, ""},
	}
	for _, st := range steps {
		out, err := run(st.stdin, st.args...)
		if (err != nil) != st.wantErr {
			t.Fatalf("%s: err %v, output %s", st.name, err, out)
		}
		if !strings.Contains(out, st.wantOut) {
			t.Errorf("%s: output %q lacks %q", st.name, out, st.wantOut)
		}
	}

	town, err := configs.LoadTown("../../configs/town.yaml", "../../configs/categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(dbPath, embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	book, err := core.NewStaffBook(context.Background(), town, st)
	if err != nil {
		t.Fatal(err)
	}
	got := book.Town()
	s := got.StaffMember("gl-new")
	if s == nil || s.Role != core.RoleGridLeader || s.Village != "v10" ||
		bcrypt.CompareHashAndPassword([]byte(s.PasswordHash), []byte("Another-password2")) != nil || s.PasswordSetAt.IsZero() || len(s.PasswordHistory) != 1 {
		t.Fatalf("gl-new = %+v", s)
	}
	if a := got.StaffMember("gl-L10-a"); a == nil || !a.Disabled {
		t.Errorf("gl-L10-a = %+v", a)
	}
	// New cases in L10 go to the new B post, A being disabled.
	if who, post, ok := got.Responsible(got.Grid("L10")); !ok || who.ID != "gl-new" || post != core.PostB {
		t.Errorf("responsible %v %s %v", who, post, ok)
	}
	// A reset and a disable ended the person's console sessions: their
	// session generation (console.EndSessions) moved on in the store.
	for _, id := range []string{"gl-new", "gl-L10-a"} {
		if v, ok, err := st.Get(context.Background(), "console:session-gen:"+id); !ok || err != nil || string(v) != "1" {
			t.Errorf("session generation of %s = %q %v %v, want 1", id, v, ok, err)
		}
	}
	changes, err := book.Changes(context.Background())
	if err != nil || len(changes) != 4 || changes[0].Actor != "cli" {
		t.Errorf("audit %+v (%v)", changes, err)
	}
}
