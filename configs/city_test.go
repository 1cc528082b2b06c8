package configs

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSampleCityLoads(t *testing.T) {
	// The sample names its files from the repository's root.
	wd, _ := os.Getwd()
	if err := os.Chdir(".."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	c, err := Load("configs/city.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasTowns() || len(c.Towns) != 2 || c.Towns[0].Key != "shatang" || c.City.Name == "" {
		t.Fatalf("towns: %+v", c.Towns)
	}
	towns, err := WatchCityTowns(c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if towns[0].Entry.Name != "沙塘镇（示例）" || towns[1].Town.Town().CasePrefix != "CS" {
		t.Fatalf("loaded: %+v %+v", towns[0].Entry, towns[1].Entry)
	}
	// Each town its own file and media folder, beside the city's.
	a, b := c.ForTown(c.Towns[0]), c.ForTown(c.Towns[1])
	if a.Store.Path == b.Store.Path || a.Media.Dir == b.Media.Dir || a.Valkey.Prefix == b.Valkey.Prefix || a.Valkey.Tag != "gb:shatang" ||
		a.Store.Path != filepath.Join("data", "city", "towns", "shatang.db") || a.HasTowns() ||
		a.Town.Categories != "configs/categories.yaml" || c.CityStorePath() != filepath.Join("data", "city", "city.db") {
		t.Fatalf("per town: %+v / %+v", a.Store, b.Store)
	}
	// A city's own valkey.tag starts its towns' tags and its own.
	c.Valkey.Tag = "kp"
	if tag := c.ForTown(c.Towns[1]).Valkey.Tag; tag != "kp:chishui" || c.CityValkeyTag() != "kp:city" {
		t.Fatalf("tags under kp: %s, %s", tag, c.CityValkeyTag())
	}
	// Without towns nothing changes.
	if one, err := Load("", nil); err != nil || one.HasTowns() {
		t.Fatalf("no towns: %v", err)
	}
}

func TestCityConfigErrors(t *testing.T) {
	dir := t.TempDir()
	town := func(name, prefix string) string {
		raw, err := os.ReadFile("city/chishui.yaml")
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(raw), "name: 赤水镇（示例）", "name: "+name, 1)
		text = strings.Replace(text, "case_prefix: CS", "case_prefix: "+prefix, 1)
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := town("甲镇", "JA"), town("乙镇", "YI"), town("丙镇", "JA")
	cats, _ := filepath.Abs("categories.yaml")
	head := "town:\n  categories: " + cats + "\ntowns:\n"
	for _, tc := range []struct {
		name, towns, want string
		atLoad            bool
	}{
		{"bad slug", "  - {key: Shatang, directory: " + a + "}\n", "towns[0].key \"Shatang\"", true},
		{"slug with space", "  - {key: \"sha tang\", directory: " + a + "}\n", "lowercase slug", true},
		{"empty key", "  - {directory: " + a + "}\n", "towns[0].key", true},
		{"duplicate key", "  - {key: jia, directory: " + a + "}\n  - {key: jia, directory: " + b + "}\n", "already the key of towns[0]", true},
		{"no directory", "  - {key: jia}\n", "towns[0] (jia).directory: required", true},
		{"unknown key", "  - {key: jia, directory: " + a + ", prefix: X}\n", "unknown key prefix", true},
		{"open311 key shared", "  - {key: jia, directory: " + a + ", open311_api_keys: [\"hotline:0123456789abcdef\"]}\n" +
			"  - {key: yi, directory: " + b + ", open311_api_keys: [\"city:0123456789abcdef\"]}\n", "each town's keys are its own", true},
		{"duplicate prefix", "  - {key: jia, directory: " + a + "}\n  - {key: bing, directory: " + c + "}\n", "case_prefix \"JA\" is jia's too", false},
		{"duplicate name", "  - {key: jia, directory: " + a + ", name: 一镇}\n  - {key: yi, directory: " + b + ", name: 一镇}\n", "name \"一镇\" is jia's too", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(writeFile(t, head+tc.towns), nil)
			if !tc.atLoad {
				if err != nil {
					t.Fatal(err)
				}
				_, err = WatchCityTowns(cfg, slog.New(slog.DiscardHandler))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ staff, want string }{
		{"  staff:\n    - {id: Viewer, name: 甲, password_hash: \"$2a$10$x\"}\n", "city.staff[0].id"},
		{"  staff:\n    - {id: viewer, name: 甲, password_hash: plain}\n", "bcrypt"},
		{"  staff:\n    - {id: viewer, password_hash: \"$2a$10$x\"}\n", "name: required"},
		{"  staff:\n    - {id: viewer, name: 甲, password_hash: \"$2a$10$x\"}\n    - {id: viewer, name: 乙, password_hash: \"$2a$10$x\"}\n", "twice"},
		{"  staff:\n    - {id: viewer, name: 甲, password: x}\n", "unknown key password"},
	} {
		if _, err := Load(writeFile(t, head+"  - {key: jia, directory: "+a+"}\ncity:\n"+tc.staff), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("city staff %q: %v", tc.staff, err)
		}
	}
	if _, err := Load(writeFile(t, "city:\n  staff:\n    - {id: viewer, name: 甲, password_hash: \"$2a$10$x\"}\n"), nil); err == nil ||
		!strings.Contains(err.Error(), "only with towns") {
		t.Fatalf("city staff without towns: %v", err)
	}
	if _, err := Load(writeFile(t, head+"  - {key: jia, directory: "+a+"}\nopen311:\n  api_keys: [\"hotline:0123456789abcdef\"]\n"), nil); err == nil ||
		!strings.Contains(err.Error(), "towns[].open311_api_keys") {
		t.Fatalf("city-wide open311 keys: %v", err)
	}
}
