package configs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"gridbot/core"
)

// The sample town and category list, embedded so `gridbot demo` runs from
// anywhere; `serve` reads the same files from disk by default.
//
// The sample city's second town (city/chishui.yaml, made up) is there for
// `gridbot demo -city`.
//
//go:embed town.yaml categories.yaml cantonese.yaml city/chishui.yaml
var samples embed.FS

// SampleTown returns the embedded sample town (directory and categories).
func SampleTown() (*core.Town, error) { return sampleTown("town.yaml") }

// sampleTown parses the embedded directory file with the sample categories.
func sampleTown(file string) (*core.Town, error) {
	dir, err := samples.ReadFile(file)
	if err != nil {
		return nil, err
	}
	cats, err := samples.ReadFile("categories.yaml")
	if err != nil {
		return nil, err
	}
	return ParseTown(dir, cats)
}

// LoadTown reads the town directory and category list files, with the
// sample lexicon.
func LoadTown(directoryPath, categoriesPath string) (*core.Town, error) {
	return LoadTownFiles(TownFiles{Directory: directoryPath, Categories: categoriesPath})
}

// townFile is the layout of the town directory YAML.
type townFile struct {
	Town struct {
		Name       string `yaml:"name"`
		CasePrefix string `yaml:"case_prefix"`
		// TimeZone is an IANA zone name; "" is Asia/Shanghai.
		TimeZone string `yaml:"time_zone"`
	} `yaml:"town"`
	Villages    []core.Village    `yaml:"villages"`
	Departments []core.Department `yaml:"departments"`
	Grids       []gridEntry       `yaml:"grids"`
	// Landmarks are place names residents use besides villages and grids;
	// they never count toward a category.
	Landmarks []string     `yaml:"landmarks"`
	Staff     []staffEntry `yaml:"staff"`
	// LinkedHouseholds link cadres to households (二十户包联): cadre (a
	// staff ID), grid, address, name (户主), phone (the registered
	// resident's, optional), id (optional: derived from grid and address).
	LinkedHouseholds []core.LinkedHousehold `yaml:"linked_households"`
	// Calendar lists holidays and make-up workdays (2006-01-02) for
	// deadlines in working days.
	Calendar struct {
		Holidays []string `yaml:"holidays"`
		Workdays []string `yaml:"workdays"`
	} `yaml:"calendar"`
}

type gridEntry struct {
	ID       string       `yaml:"id"`
	Name     string       `yaml:"name"`
	Kind     string       `yaml:"kind"`
	Village  string       `yaml:"village"`
	Boundary [][2]float64 `yaml:"boundary"` // [lat, lng] pairs
	LeaderA  string       `yaml:"leader_a"`
	LeaderB  string       `yaml:"leader_b"`
	// RobotWebhook is the grid team's WeCom group robot; RobotEachCase
	// posts each new case there too, not only the morning digest.
	RobotWebhook  string `yaml:"robot_webhook"`
	RobotEachCase bool   `yaml:"robot_each_case"`
}

type staffEntry struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Role        string `yaml:"role"`
	OpenID      string `yaml:"openid"`
	WeComUserID string `yaml:"wecom_userid"`
	// Prefers names the channel tried first (wechat or wecom); "" is
	// WeCom where the member has it and WeCom runs.
	Prefers      string `yaml:"prefers"`
	Village      string `yaml:"village"`
	Department   string `yaml:"department"`
	PasswordHash string `yaml:"password_hash"`
	Away         bool   `yaml:"away"`
	Disabled     bool   `yaml:"disabled"`
}

type categoriesFile struct {
	Categories []struct {
		Code             string `yaml:"code"`
		Name             string `yaml:"name"`
		DeadlineHours    int    `yaml:"deadline_hours"`
		DeadlineWorkdays int    `yaml:"deadline_workdays"`
		AcceptMinutes    int    `yaml:"accept_minutes"`
		Department       string `yaml:"department"`
		// NeverPublish keeps the category's cases off the public record.
		NeverPublish bool `yaml:"never_publish"`
		// UrgentHours is the term of a case flagged 加急 (0: half the
		// ordinary term).
		UrgentHours int `yaml:"urgent_hours"`
		// Cues map a word or phrase to its weight for guessing the
		// category from a resident's words.
		Cues map[string]int `yaml:"cues"`
	} `yaml:"categories"`
}

// strictYAML decodes data into v, refusing unknown fields so a typo in a key
// is an error with its line number rather than a silently ignored setting.
func strictYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ParseTown builds a town from the directory and category YAML documents,
// with the sample lexicon.
func ParseTown(directory, categories []byte) (*core.Town, error) {
	return ParseTownLexicon(directory, categories, nil)
}

// ParseTownLexicon builds a town from the directory, category and lexicon
// YAML documents; a nil lexicon means the embedded sample.
func ParseTownLexicon(directory, categories, lexicon []byte) (*core.Town, error) {
	var tf townFile
	if err := strictYAML(directory, &tf); err != nil {
		return nil, fmt.Errorf("town directory: %w", err)
	}
	var cf categoriesFile
	if err := strictYAML(categories, &cf); err != nil {
		return nil, fmt.Errorf("category list: %w", err)
	}
	t := core.Town{
		Name:        tf.Town.Name,
		CasePrefix:  tf.Town.CasePrefix,
		TimeZone:    tf.Town.TimeZone,
		Villages:    tf.Villages,
		Departments: tf.Departments,
		Calendar:    core.Calendar{Holidays: tf.Calendar.Holidays, Workdays: tf.Calendar.Workdays},
		Landmarks:   tf.Landmarks,
		Linked:      tf.LinkedHouseholds,
	}
	var err error
	if lexicon == nil {
		t.Lexicon, err = SampleLexicon()
	} else {
		t.Lexicon, err = ParseLexicon(lexicon)
	}
	if err != nil {
		return nil, err
	}
	for _, g := range tf.Grids {
		if err := checkWebhook(g.RobotWebhook); err != nil {
			return nil, fmt.Errorf("grid %q: robot_webhook: %w", g.ID, err)
		}
		grid := core.Grid{ID: g.ID, Name: g.Name, Kind: core.GridKind(g.Kind), Village: g.Village, LeaderA: g.LeaderA, LeaderB: g.LeaderB,
			RobotWebhook: g.RobotWebhook, RobotEachCase: g.RobotEachCase}
		for _, p := range g.Boundary {
			grid.Boundary = append(grid.Boundary, core.Point{Lat: p[0], Lng: p[1]})
		}
		t.Grids = append(t.Grids, grid)
	}
	for _, v := range tf.Villages {
		if err := checkWebhook(v.RobotWebhook); err != nil {
			return nil, fmt.Errorf("village %q: robot_webhook: %w", v.ID, err)
		}
	}
	for _, s := range tf.Staff {
		switch core.Channel(s.Prefers) {
		case "", core.ChannelWeChat, core.ChannelWeCom:
		default:
			return nil, fmt.Errorf("staff %q: prefers %q: want wechat or wecom", s.ID, s.Prefers)
		}
		if !validWeComUserID(s.WeComUserID) {
			return nil, fmt.Errorf("staff %q: wecom_userid %q: want 1-64 letters, digits or _-@. (the member's 账号 in WeCom), not @all", s.ID, s.WeComUserID)
		}
		addrs := map[core.Channel]string{}
		if s.OpenID != "" {
			addrs[core.ChannelWeChat] = s.OpenID
		}
		if s.WeComUserID != "" {
			addrs[core.ChannelWeCom] = s.WeComUserID
		}
		t.Staff = append(t.Staff, core.Staff{ID: s.ID, Name: s.Name, Role: core.Role(s.Role), Addresses: addrs,
			Prefers: core.Channel(s.Prefers), Village: s.Village, Department: s.Department, PasswordHash: s.PasswordHash,
			Away: s.Away, Disabled: s.Disabled})
	}
	for _, c := range cf.Categories {
		cues, err := parseCues(c.Cues)
		if err != nil {
			return nil, fmt.Errorf("category %q: %w", c.Code, err)
		}
		t.Categories = append(t.Categories, core.Category{Code: c.Code, Name: c.Name, DeadlineHours: c.DeadlineHours,
			DeadlineWorkdays: c.DeadlineWorkdays, AcceptMinutes: c.AcceptMinutes, Department: c.Department, Cues: cues,
			NeverPublish: c.NeverPublish, UrgentHours: c.UrgentHours})
	}
	return core.NewTown(t)
}

// validWeComUserID accepts "" or a WeCom userid: 1-64 letters, digits and
// _-@., never @all (every member).
func validWeComUserID(id string) bool {
	if id == "" {
		return true
	}
	if len(id) > 64 || strings.EqualFold(id, "@all") {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-@.", r)) {
			return false
		}
	}
	return true
}

// checkWebhook accepts "" or an http(s) URL with a host: a group robot's
// address (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…).
func checkWebhook(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("want an https URL (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)")
	}
	return nil
}

// parseCues turns a category's cue map into cues in a stable order (by
// phrase), refusing an empty phrase or part, or a zero weight.
func parseCues(m map[string]int) ([]core.Cue, error) {
	out := make([]core.Cue, 0, len(m))
	for phrase, w := range m {
		if w == 0 || strings.TrimSpace(phrase) == "" || slices.Contains(strings.Split(phrase, "+"), "") {
			return nil, fmt.Errorf("cue %q: want a non-empty phrase (parts joined by +) and a non-zero weight", phrase)
		}
		out = append(out, core.Cue{Phrase: strings.ToLower(strings.TrimSpace(phrase)), Weight: w})
	}
	slices.SortFunc(out, func(a, b core.Cue) int { return strings.Compare(a.Phrase, b.Phrase) })
	return out, nil
}
