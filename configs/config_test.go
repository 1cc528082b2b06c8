package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbot/core"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gridbot.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadLayers(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":8080" || c.Store.Kind != "embedded" || c.Dialog.IdleTimeout != 30*time.Minute ||
		c.WeChat.APIBase != "https://api.weixin.qq.com" || c.Town.Directory != "configs/town.yaml" {
		t.Fatalf("defaults: %+v", c)
	}
	file := writeFile(t, "http:\n  addr: 127.0.0.1:9000\nwechat:\n  app_id: wxfile\n  app_secret: fromfile\n")
	c, err = Load(file, []string{"GRIDBOT_WECHAT_APP_SECRET=fromenv", "GRIDBOT_DIALOG_IDLE_TIMEOUT=45m", "OTHER_VAR=x"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Load("", []string{"GRIDBOT_STORE_KIND=valkey", "GRIDBOT_VALKEY_ADDR=10.0.0.1:6379,10.0.0.2:6379", "GRIDBOT_VALKEY_DB=2"}); err != nil ||
		len(c.Valkey.Addr) != 2 || c.Valkey.DB != 2 || c.Valkey.Prefix != "gridbot:" || c.Valkey.Tag != "gb" {
		t.Fatalf("valkey from env: %+v %v", c, err)
	}
	if c, err := Load("", []string{"GRIDBOT_STORE_KIND=valkey", "GRIDBOT_VALKEY_TAG=gb:chikan"}); err != nil || c.Valkey.Tag != "gb:chikan" {
		t.Fatalf("valkey.tag from env: %q %v", c.Valkey.Tag, err)
	}
	if c.HTTP.Addr != "127.0.0.1:9000" || c.WeChat.AppID != "wxfile" || c.WeChat.AppSecret != "fromenv" || c.Dialog.IdleTimeout != 45*time.Minute {
		t.Fatalf("layers: %+v", c)
	}
}

func TestLoadRejectsNamingTheKey(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown file key", "wechat:\n  appsecret: x\n", nil, "wechat.appsecret"},
		{"unknown env var", "", []string{"GRIDBOT_WECHAT_SECRET=x"}, "GRIDBOT_WECHAT_SECRET"},
		{"bad aes key", "wechat:\n  aes_key: short\n", nil, "wechat.aes_key"},
		{"bad store kind", "", []string{"GRIDBOT_STORE_KIND=postgres"}, "store.kind"},
		{"bad valkey addr", "", []string{"GRIDBOT_STORE_KIND=valkey", "GRIDBOT_VALKEY_ADDR=nohost"}, "valkey.addr"},
		{"bad valkey db", "store:\n  kind: valkey\nvalkey:\n  db: 99\n", nil, "valkey.db"},
		{"valkey tag with braces", "store:\n  kind: valkey\nvalkey:\n  tag: \"gb}{x\"\n", nil, "valkey.tag"},
		{"empty valkey tag", "", []string{"GRIDBOT_STORE_KIND=valkey", "GRIDBOT_VALKEY_TAG="}, "valkey.tag"},
		{"valkey tag with a space", "", []string{"GRIDBOT_STORE_KIND=valkey", "GRIDBOT_VALKEY_TAG=gb chikan"}, "valkey.tag"},
		{"bad addr", "http:\n  addr: nonsense\n", nil, "http.addr"},
		{"bad api base", "", []string{"GRIDBOT_WECHAT_API_BASE=ftp://x"}, "wechat.api_base"},
		{"bad duration", "", []string{"GRIDBOT_DIALOG_IDLE_TIMEOUT=soon"}, "idle_timeout"},
		{"bad log format", "log:\n  format: xml\n", nil, "log.format"},
		{"bad join radius", "", []string{"GRIDBOT_DIALOG_JOIN_RADIUS_M=-5"}, "dialog.join_radius_m"},
		{"bad open311 key", "", []string{"GRIDBOT_OPEN311_API_KEYS=hotline:short"}, "open311.api_keys"},
		{"bad admin addr", "admin:\n  addr: nowhere\n", nil, "admin.addr"},
		{"bad yaml", "http: [\n", nil, "config file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := Load(path, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %q", err, tt.want)
			}
		})
	}
}

func TestRequireWeChat(t *testing.T) {
	c, _ := Load("", []string{"GRIDBOT_WECHAT_APP_ID=wx1", "GRIDBOT_WECHAT_TOKEN=t"})
	if err := c.RequireWeChat(); err == nil || !strings.Contains(err.Error(), "GRIDBOT_WECHAT_APP_SECRET") {
		t.Fatalf("err = %v", err)
	}
}

func TestSampleTown(t *testing.T) {
	town, err := SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[core.GridKind]int{}
	for _, g := range town.Grids {
		counts[g.Kind]++
		// A point a quarter into each grid's box (west of any micro grid in a
		// large one) must be found in that grid.
		lo, hi := g.Boundary[0], g.Boundary[2]
		c := core.Point{Lat: lo.Lat + (hi.Lat-lo.Lat)/4, Lng: lo.Lng + (hi.Lng-lo.Lng)/4}
		if got, ok := town.GridAt(c); !ok || got.ID != g.ID {
			t.Errorf("GridAt(centre of %s) = %v", g.ID, got)
		}
		if _, _, ok := town.Responsible(&g); !ok {
			t.Errorf("grid %s has nobody on post", g.ID)
		}
	}
	if len(town.Villages) != 16 || counts[core.GridLarge] != 16 || counts[core.GridMicro] != 22 {
		t.Fatalf("villages %d, grids %v", len(town.Villages), counts)
	}
	if g, ok := town.GridAt(core.Point{Lat: 22.35, Lng: 112.56}); !ok {
		t.Fatal("the town centre is in no grid")
	} else if town.PlaceName(g.ID) == "" {
		t.Fatal("no place name")
	}
	if _, ok := town.GridAt(core.Point{Lat: 23.1, Lng: 113.3}); ok {
		t.Fatal("Guangzhou is not in the sample town")
	}
	// serve's default paths read the same files.
	disk, err := LoadTown("town.yaml", "categories.yaml")
	if err != nil || len(disk.Grids) != len(town.Grids) {
		t.Fatalf("LoadTown: %v", err)
	}
}

func TestParseTownRejects(t *testing.T) {
	dir, _ := samples.ReadFile("town.yaml")
	cats, _ := samples.ReadFile("categories.yaml")
	for _, tt := range []struct {
		name      string
		dir, cats string
		want      string
	}{
		{"unknown field", string(dir) + "mayor: x\n", string(cats), "mayor"},
		{"unknown leader", strings.Replace(string(dir), "leader_a: gl-L01-a", "leader_a: nobody", 1), string(cats), "nobody"},
		{"bad department", string(dir), strings.Replace(string(cats), "department: shebao", "department: bank", 1), "bank"},
		{"empty categories", string(dir), "categories: []\n", "categories"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTown([]byte(tt.dir), []byte(tt.cats))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// The notice templates in the shape the README gives: each kind's template
// id and the value each of its fields shows; a mapping WeChat would refuse
// is refused at start, naming the key.
func TestNoticeTemplates(t *testing.T) {
	good := `wechat:
  public_base: https://grid.example.org
  oauth_base: https://open.weixin.qq.com
  templates:
    staff_case: {id: "T1", fields: {thing1: category, character_string2: number, thing3: place, time4: deadline}}
    resident_progress: {id: "T2", fields: {character_string1: number, phrase3: state, thing4: handler, time5: time}}
  subscribe:
    resident_progress: {id: "S1", fields: {character_string1: number, phrase2: state}}
`
	c, err := Load(writeFile(t, good), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.WeChat.Templates["staff_case"].ID != "T1" || c.WeChat.Templates["staff_case"].Fields["time4"] != "deadline" ||
		c.WeChat.Subscribe["resident_progress"].Fields["phrase2"] != "state" || c.WeChat.PublicBase != "https://grid.example.org" {
		t.Fatalf("templates %+v", c.WeChat)
	}
	for _, tt := range []struct{ name, file, want string }{
		{"unknown kind", "wechat:\n  templates:\n    fax: {id: T, fields: {thing1: category}}\n", "wechat.templates.fax"},
		{"unknown value", "wechat:\n  templates:\n    staff_case: {id: T, fields: {thing1: colour}}\n", "wechat.templates.staff_case.fields.thing1"},
		{"Chinese in a character_string", "wechat:\n  templates:\n    staff_case: {id: T, fields: {character_string1: place}}\n", "character_string1"},
		{"a phrase for a place", "wechat:\n  templates:\n    staff_case: {id: T, fields: {phrase1: place}}\n", "phrase1"},
		{"a time for a category", "wechat:\n  templates:\n    staff_case: {id: T, fields: {time1: category}}\n", "time1"},
		{"an amount", "wechat:\n  templates:\n    staff_case: {id: T, fields: {amount1: number}}\n", "amount1"},
		{"no id", "wechat:\n  templates:\n    staff_case: {fields: {thing1: category}}\n", "wechat.templates.staff_case"},
		{"subscribe for staff", "wechat:\n  subscribe:\n    staff_case: {id: T, fields: {thing1: category}}\n", "wechat.subscribe.staff_case"},
		{"the 2022 template", "wechat:\n  template_id: OLD\n", "wechat.template_id"},
		{"a relative public base", "wechat:\n  public_base: /wx\n", "wechat.public_base"},
	} {
		if _, err := Load(writeFile(t, tt.file), nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}

// The template mappings can come from the environment too, whole or over
// the file's: GRIDBOT_WECHAT_TEMPLATES_<KIND>_ID and …_FIELDS.
func TestNoticeTemplatesFromTheEnvironment(t *testing.T) {
	file := writeFile(t, "wechat:\n  templates:\n    staff_case: {id: FILE, fields: {thing1: category, character_string2: number}}\n")
	c, err := Load(file, []string{
		"GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_ID=ENV-STAFF",
		"GRIDBOT_WECHAT_TEMPLATES_RESIDENT_PROGRESS_ID=ENV-PROGRESS",
		"GRIDBOT_WECHAT_TEMPLATES_RESIDENT_PROGRESS_FIELDS=character_string1=number, phrase3=state,thing4:handler time5=time",
		"GRIDBOT_WECHAT_SUBSCRIBE_RATING_ID=ENV-SUB",
		"GRIDBOT_WECHAT_SUBSCRIBE_RATING_FIELDS=character_string1=number,thing2=result",
	})
	if err != nil {
		t.Fatal(err)
	}
	staff, progress, sub := c.WeChat.Templates["staff_case"], c.WeChat.Templates["resident_progress"], c.WeChat.Subscribe["rating"]
	if staff.ID != "ENV-STAFF" || staff.Fields["thing1"] != "category" || staff.Fields["character_string2"] != "number" {
		t.Errorf("the file's staff_case with the environment's id: %+v", staff)
	}
	if progress.ID != "ENV-PROGRESS" || len(progress.Fields) != 4 || progress.Fields["thing4"] != "handler" || progress.Fields["time5"] != "time" {
		t.Errorf("resident_progress from the environment: %+v", progress)
	}
	if sub.ID != "ENV-SUB" || sub.Fields["thing2"] != "result" {
		t.Errorf("subscribe rating from the environment: %+v", sub)
	}
	for _, tt := range []struct{ env, want string }{
		{"GRIDBOT_WECHAT_TEMPLATES_FAX_ID=T", "GRIDBOT_WECHAT_TEMPLATES_FAX_ID"},
		{"GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_COLOUR=T", "GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_COLOUR"},
		{"GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_FIELDS=thing1", "GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_FIELDS"},
		{"GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_FIELDS=", "GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_FIELDS"},
		// Read, then judged like the file's: a value WeChat would refuse.
		{"GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_FIELDS=character_string1=place", "character_string1"},
		{"GRIDBOT_WECHAT_SUBSCRIBE_STAFF_CASE_ID=T", "wechat.subscribe.staff_case"},
	} {
		if _, err := Load(file, []string{tt.env}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.env, err, tt.want)
		}
	}
}

func TestASRSettings(t *testing.T) {
	c, err := Load(writeFile(t, "asr:\n  provider: tencent\n  secret_id: AKID1\n  engine: 16k_yue\n  endpoint: http://127.0.0.1:9\n"),
		[]string{"GRIDBOT_ASR_SECRET_KEY=k"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ASR.Provider != "tencent" || c.ASR.SecretKey != "k" || c.ASR.Region != "ap-guangzhou" || c.ASR.Engine != "16k_yue" {
		t.Fatalf("asr %+v", c.ASR)
	}
	for _, tt := range []struct{ file, want string }{
		{"asr:\n  provider: google\n", "asr.provider"},
		{"asr:\n  provider: tencent\n", "asr.secret_id"},
		{"asr:\n  provider: tencent\n  secret_id: a\n  secret_key: b\n  endpoint: ftp://x\n", "asr.endpoint"},
	} {
		if _, err := Load(writeFile(t, tt.file), nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an error naming %s", tt.file, err, tt.want)
		}
	}
}
