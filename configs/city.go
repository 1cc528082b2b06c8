package configs

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gridbot/core"
)

// SampleCityTown returns the sample city's second town (configs/city/
// chishui.yaml, made up) with the sample categories.
func SampleCityTown() (*core.Town, error) { return sampleTown("city/chishui.yaml") }

// TownEntry is one town of a city deployment (the towns: list): several
// towns served by one process, one listener and one official account, each
// with its own directory, categories, staff, calendar and ledger.
type TownEntry struct {
	// Key names the town in URLs, cookies, file names and store keys: a
	// lowercase ASCII slug (a-z, 0-9, -), starting with a letter.
	Key string `koanf:"key"`
	// Name is what residents and staff read (the town picker); empty is
	// the directory's own town.name.
	Name string `koanf:"name"`
	// Directory, Categories and Lexicon are the town's files, as
	// town.directory, town.categories and town.lexicon are for a single
	// town; an empty Categories or Lexicon takes the town: setting.
	Directory  string `koanf:"directory"`
	Categories string `koanf:"categories"`
	Lexicon    string `koanf:"lexicon"`
	// Open311APIKeys are the town's own Open311 keys ("channel:key"); a
	// key opens its town only.
	Open311APIKeys []string `koanf:"open311_api_keys"`
}

// townEntryKeys are the keys a towns: entry may hold.
var townEntryKeys = []string{"key", "name", "directory", "categories", "lexicon", "open311_api_keys"}

// MaxTowns bounds a city's towns (Guangdong's largest prefecture has well
// under a hundred).
const MaxTowns = 200

// HasTowns reports whether the configuration lists towns (a city deployment).
func (c *Config) HasTowns() bool { return len(c.Towns) > 0 }

// checkTownEntries refuses an entry of the towns: list that is not a map
// of known keys: a typo there would otherwise be silently ignored.
func checkTownEntries(raw any) error { return checkListEntries("towns", raw, townEntryKeys) }

// checkListEntries refuses an entry of the list setting name that is not a
// map of the keys known.
func checkListEntries(name string, raw any, known []string) error {
	if raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		return fmt.Errorf("config %s: want a list of {%s}", name, strings.Join(known, ", "))
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return fmt.Errorf("config %s[%d]: want {%s}", name, i, strings.Join(known, ", "))
		}
		var unknown []string
		for k := range m {
			if !slices.Contains(known, k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return fmt.Errorf("config %s[%d]: unknown key %s (want %s)", name, i, strings.Join(unknown, ", "), strings.Join(known, ", "))
		}
	}
	return nil
}

// CityStaffEntry is one of the city's own staff (city.staff): they log in
// to the city's figures at /city/, never to a town's console.
type CityStaffEntry struct {
	ID   string `koanf:"id"`
	Name string `koanf:"name"`
	// PasswordHash is bcrypt (gridbot staff hash-password).
	PasswordHash string `koanf:"password_hash"`
}

var cityStaffKeys = []string{"id", "name", "password_hash"}

// validateCityStaff checks city.staff: only with towns, each with a login
// of its own and a bcrypt hash.
func (c *Config) validateCityStaff() error {
	if len(c.City.Staff) == 0 {
		return nil
	}
	if len(c.Towns) == 0 {
		return fmt.Errorf("config city.staff: only with towns")
	}
	seen := map[string]bool{}
	for i, s := range c.City.Staff {
		if !validTownKey(strings.ReplaceAll(s.ID, "_", "-")) {
			return fmt.Errorf("config city.staff[%d].id %q: want a login of a-z, 0-9, - and _, starting with a letter", i, s.ID)
		}
		if seen[s.ID] {
			return fmt.Errorf("config city.staff[%d].id %q: twice", i, s.ID)
		}
		seen[s.ID] = true
		if strings.TrimSpace(s.Name) == "" {
			return fmt.Errorf("config city.staff[%d] (%s).name: required", i, s.ID)
		}
		if !strings.HasPrefix(s.PasswordHash, "$2") {
			return fmt.Errorf("config city.staff[%d] (%s).password_hash: want a bcrypt hash (gridbot staff hash-password)", i, s.ID)
		}
	}
	return nil
}

// validTownKey reports whether key is a town's slug: 1-32 of a-z, 0-9 and
// -, starting with a letter, not ending with -.
func validTownKey(key string) bool {
	if key == "" || len(key) > 32 || key[0] < 'a' || key[0] > 'z' || strings.HasSuffix(key, "-") {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// validateTowns checks the towns: list: slugs, no key twice, the files
// named, each town's Open311 keys, and the settings a city cannot share.
func (c *Config) validateTowns() error {
	if err := c.validateCityStaff(); err != nil {
		return err
	}
	if len(c.Towns) == 0 {
		return nil
	}
	if len(c.Towns) > MaxTowns {
		return fmt.Errorf("config towns: %d towns, at most %d", len(c.Towns), MaxTowns)
	}
	seen := map[string]int{}
	apiKeys := map[string]string{}
	for i, t := range c.Towns {
		if !validTownKey(t.Key) {
			return fmt.Errorf("config towns[%d].key %q: want a lowercase slug of a-z, 0-9 and - (e.g. shatang), starting with a letter, at most 32", i, t.Key)
		}
		if j, dup := seen[t.Key]; dup {
			return fmt.Errorf("config towns[%d].key %q: already the key of towns[%d]", i, t.Key, j)
		}
		seen[t.Key] = i
		if t.Directory == "" {
			return fmt.Errorf("config towns[%d] (%s).directory: required", i, t.Key)
		}
		keys, err := open311Keys(t.Open311APIKeys, fmt.Sprintf("towns[%d] (%s).open311_api_keys", i, t.Key))
		if err != nil {
			return err
		}
		for k := range keys {
			if other, dup := apiKeys[k]; dup {
				return fmt.Errorf("config towns[%d] (%s).open311_api_keys: a key of %s too; each town's keys are its own", i, t.Key, other)
			}
			apiKeys[k] = t.Key
		}
	}
	if len(c.Open311.APIKeys) > 0 {
		return fmt.Errorf("config open311.api_keys: with towns, give each town its own under towns[].open311_api_keys")
	}
	if c.WeCom.CorpID != "" {
		return fmt.Errorf("config wecom.corp_id: WeCom is not yet served with towns; leave it empty in a city deployment")
	}
	return nil
}

// TownFilesOf is the files of a town of the towns: list, the town:
// settings filling what the entry leaves empty.
func (c *Config) TownFilesOf(t TownEntry) TownFiles {
	f := TownFiles{Directory: t.Directory, Categories: t.Categories, Lexicon: t.Lexicon}
	if f.Categories == "" {
		f.Categories = c.Town.Categories
	}
	if f.Lexicon == "" {
		f.Lexicon = c.Town.Lexicon
	}
	return f
}

// ForTown is the configuration one town of a city runs with: its files,
// its own store (an embedded file under towns/ beside store.path, or its
// own Valkey keys), its own media folder and its own Open311 keys; every
// other setting is the city's.
func (c *Config) ForTown(t TownEntry) *Config {
	tc := *c
	tc.Towns = nil
	f := c.TownFilesOf(t)
	tc.Town.Directory, tc.Town.Categories, tc.Town.Lexicon = f.Directory, f.Categories, f.Lexicon
	dir := filepath.Dir(c.Store.Path)
	tc.Store.Path = filepath.Join(dir, "towns", t.Key+".db")
	media := c.Media.Dir
	if media == "" {
		media = filepath.Join(dir, "media")
	}
	tc.Media.Dir = filepath.Join(media, t.Key)
	// On Valkey a town's ledger and streams take a hash tag of their own,
	// so a cluster spreads the towns over its masters; its records and
	// short-lived keys, which no tag covers, a prefix of their own.
	tc.Valkey.Tag = c.cityTagBase() + ":" + t.Key
	tc.Valkey.Prefix = c.Valkey.Prefix + "town:" + t.Key + ":"
	tc.Open311.APIKeys = t.Open311APIKeys
	// The city serves the one admin listener, a town's backup under
	// ?town=; the town's commands find it, and its token, there.
	tc.Admin.TokenFile = c.AdminTokenFile()
	return &tc
}

// cityTagBase starts the hash tags of a city's towns (<tag>:<key>) and of
// the city's own keys (<tag>:city): valkey.tag, gb unless set.
func (c *Config) cityTagBase() string {
	if c.Valkey.Tag == "" {
		return "gb"
	}
	return c.Valkey.Tag
}

// CityValkeyPrefix starts the city's own Valkey keys.
func (c *Config) CityValkeyPrefix() string { return c.Valkey.Prefix + "city:" }

// CityValkeyTag is the hash tag of the city's own keys.
func (c *Config) CityValkeyTag() string { return c.cityTagBase() + ":city" }

// CityStorePath is the embedded file of what belongs to the city, not a
// town: which town each resident is routed to, and what the one official
// account keeps (callback marks, the customer-service window).
func (c *Config) CityStorePath() string {
	return filepath.Join(filepath.Dir(c.Store.Path), "city.db")
}

// CityTown is one loaded town of a city.
type CityTown struct {
	Entry TownEntry
	Town  *TownWatcher
}

// WatchCityTowns loads every town of the towns: list and checks what only
// the files tell: no two towns share a case number prefix (case numbers
// must name their town), nor a name.
func WatchCityTowns(c *Config, log *slog.Logger) ([]CityTown, error) {
	out := make([]CityTown, 0, len(c.Towns))
	prefixes, names := map[string]string{}, map[string]string{}
	for i, e := range c.Towns {
		w, err := WatchTownFiles(c.TownFilesOf(e), log.With("town", e.Key))
		if err != nil {
			return nil, fmt.Errorf("config towns[%d] (%s): %w", i, e.Key, err)
		}
		t := w.Town()
		if e.Name == "" {
			e.Name = t.Name
		}
		if other, dup := prefixes[t.CasePrefix]; dup {
			return nil, fmt.Errorf("config towns[%d] (%s): case_prefix %q is %s's too; each town's case numbers need their own", i, e.Key, t.CasePrefix, other)
		}
		prefixes[t.CasePrefix] = e.Key
		if other, dup := names[e.Name]; dup {
			return nil, fmt.Errorf("config towns[%d] (%s): name %q is %s's too; residents pick their town by name", i, e.Key, e.Name, other)
		}
		names[e.Name] = e.Key
		out = append(out, CityTown{Entry: e, Town: w})
	}
	return out, nil
}
