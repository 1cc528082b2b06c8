package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary YAML files and GRIDBOT_ variables to the loader:
// it must answer with a configuration or an error, never panic, and never
// accept what it then cannot use (a configuration it returns has a store
// kind it knows and a positive dialog timeout).
func FuzzLoad(f *testing.F) {
	for _, s := range []struct{ yaml, env string }{
		{"http:\n  addr: 127.0.0.1:0\n", ""},
		{"wechat:\n  app_id: wx1\n  token: t\n  aes_key: abc\n", "GRIDBOT_LOG_LEVEL=debug"},
		{"store:\n  kind: valkey\nvalkey:\n  addr: [a, b]\n", "GRIDBOT_VALKEY_ADDR=a,b"},
		{"dialog:\n  idle_timeout: -5m\n", ""},
		{"&a [*a, *a, *a]", ""},
		{"a: &a [*a, *a]\nb: *a\n", ""},
		{strings.Repeat("[", 5000), ""},
		{"http: {addr: \x00}\n", "GRIDBOT_\x00=1"},
		{"supervision:\n  warn_at: NaN\n", "GRIDBOT_SUPERVISION_WARN_AT=1e309"},
		{"open311:\n  api_keys: [\":\"]\n", ""},
	} {
		f.Add(s.yaml, s.env)
	}
	f.Fuzz(func(t *testing.T, yaml, env string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "gridbot.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		environ := strings.Split(env, "\n")
		cfg, err := Load(path, environ)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("an empty error for %q", yaml)
			}
			return
		}
		if cfg.Store.Kind != "embedded" && cfg.Store.Kind != "valkey" {
			t.Fatalf("accepted store.kind %q", cfg.Store.Kind)
		}
		if cfg.Dialog.IdleTimeout <= 0 {
			t.Fatalf("accepted dialog.idle_timeout %v", cfg.Dialog.IdleTimeout)
		}
	})
}

// FuzzLoadTown feeds arbitrary town directories and category lists to the
// loader: a town or an error, never a panic.
func FuzzLoadTown(f *testing.F) {
	town, err := os.ReadFile("town.yaml")
	if err != nil {
		f.Fatal(err)
	}
	cats, err := os.ReadFile("categories.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(town), string(cats))
	f.Add("villages: [{id: v, name: 村}]\ngrids: [{id: g, name: 格, kind: large, village: v, boundary: [[1,2],[1,3],[2,3]], leader_a: s, leader_b: s}]\nstaff: [{id: s, name: 人, role: grid}]\n", "categories: []\n")
	f.Add("grids: [{boundary: [[1e400, -1e400]]}]\n", "")
	f.Add("villages: &v [*v]\n", "- &c [*c]\n")
	f.Fuzz(func(t *testing.T, directory, categories string) {
		dir := t.TempDir()
		dp, cp := filepath.Join(dir, "town.yaml"), filepath.Join(dir, "categories.yaml")
		if err := os.WriteFile(dp, []byte(directory), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cp, []byte(categories), 0o600); err != nil {
			t.Fatal(err)
		}
		if town, err := LoadTown(dp, cp); err == nil && town == nil {
			t.Fatal("no town and no error")
		}
	})
}
