package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
)

// What the resident and the leader write in TestSealedAtRest: words found
// nowhere else in the tests, so a Valkey server other tests share cannot
// hold them in plain text by someone else's doing.
var atRestSecrets = []string{"13700009876", "紫藤架下的井盖松动", "紫藤架旁", "紫藤井盖已派人加固", "井盖换新紫藤"}

// TestSealedAtRest is issue 20's done-when for personal data at rest: a
// whole run — a resident files with their phone and words, the leader
// replies, resolves, the resident rates — on each store with a key file
// (made by gridbot keys new), then the bbolt file and a Valkey dump
// (SAVE, uncompressed, read whole) hold neither the phone nor the words.
// After gridbot keys rotate the old data still reads on the console, and
// (embedded) gridbot keys reseal seals it with the new key. The same run
// without keys must show the words, so the search is known to see them
// (Valkey compresses cases and log entries).
func TestSealedAtRest(t *testing.T) {
	for _, tt := range []struct {
		kind  string
		plain bool // no keys: the search must find the words, or it proves nothing (after the sealed run: the Valkey server is shared)
	}{{"embedded", false}, {"embedded", true}, {"valkey", false}, {"valkey", true}} {
		kind := tt.kind
		t.Run(map[bool]string{true: kind + " without keys", false: kind}[tt.plain], func(t *testing.T) {
			dir := t.TempDir()
			keyFile := filepath.Join(dir, "data-keys")
			if out, err := runCommand("", "keys", "new", "-file", keyFile); err != nil {
				t.Fatalf("keys new: %v %s", err, out)
			}
			opts := rigOptions{dataDir: dir, extra: "crypto:\n  key_file: " + keyFile + "\n"}
			if tt.plain {
				opts.extra = ""
			}
			var addr string
			if kind == "valkey" {
				addr = valkeytest.Addr(t)
				opts.valkey, opts.prefix = addr, valkeytest.Prefix(t)
			}
			r := boot(t, opts)
			number := fileSecretly(t, r, "oresident-sealed-1")
			staff := r.login("gl-L10-a")
			r.waitPush("osample-L10-a", number)
			if status := staff.post("/api/cases/"+number+"/reply", map[string]string{"text": "紫藤井盖已派人加固"}, nil); status != 200 {
				t.Fatalf("reply: %d", status)
			}
			r.waitPush("oresident-sealed-1", "紫藤井盖已派人加固")
			if status := staff.post("/api/cases/"+number+"/resolve", map[string]string{"result": "井盖换新紫藤"}, nil); status != 200 {
				t.Fatalf("resolve: %d", status)
			}
			r.waitPush("oresident-sealed-1", "1-5")
			if got := r.say("oresident-sealed-1", "5"); !strings.Contains(got, number) {
				t.Fatalf("rating: %q", got)
			}
			// The console reads it all back: the phone, the words.
			var page struct {
				Case struct {
					Text  string `json:"text"`
					Phone string `json:"phone"`
					State string `json:"state"`
				} `json:"case"`
			}
			readBack := func(c *staffClient, when string) {
				t.Helper()
				if status := c.get("/api/cases/"+number, &page); status != 200 || page.Case.Text != "紫藤架下的井盖松动了好几天" ||
					!strings.HasSuffix(page.Case.Phone, "9876") {
					t.Fatalf("%s: the case page: %d %+v", when, status, page.Case)
				}
			}
			readBack(staff, "sealed")

			var raw []byte
			if kind == "valkey" {
				raw = valkeyDump(t, addr)
			}
			r.shutdown()
			if kind == "embedded" {
				var err error
				if raw, err = os.ReadFile(filepath.Join(dir, "gridbot.db")); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Contains(raw, []byte(number)) {
				t.Fatalf("the %s contents lack the case number: the check would see nothing", kind)
			}
			if tt.plain {
				found := 0
				for _, secret := range atRestSecrets {
					if bytes.Contains(raw, []byte(secret)) {
						found++
					}
				}
				if found == 0 {
					t.Fatalf("without keys none of the words is found in the %s contents: the search sees nothing", kind)
				}
				return
			}
			for _, secret := range atRestSecrets {
				if bytes.Contains(raw, []byte(secret)) {
					i := bytes.Index(raw, []byte(secret))
					t.Errorf("%q lies in plain text in the %s store: %q", secret, kind, raw[max(0, i-300):min(len(raw), i+100)])
				}
			}

			// A new key on top: the old data reads, with it.
			if out, err := runCommand("", "keys", "rotate", "-file", keyFile); err != nil || !strings.Contains(out, "k2") {
				t.Fatalf("keys rotate: %v %s", err, out)
			}
			opts.dataDir = dir
			r = boot(t, opts)
			readBack(r.login("gl-L10-a"), "after the rotation")
			r.shutdown()
			if kind != "embedded" {
				return
			}
			out, err := runCommand("", "keys", "reseal", "-config", r.cfgPath)
			if err != nil || !strings.Contains(out, "resealed with key k2") {
				t.Fatalf("keys reseal: %v %s", err, out)
			}
			r = boot(t, opts)
			readBack(r.login("gl-L10-a"), "after the reseal")
		})
	}
}

// fileSecretly files a case through the intake with the test's words,
// place and phone, and returns its number.
func fileSecretly(t *testing.T, r *rig, openid string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, step := range []struct {
		send func() (string, error)
		want string
	}{
		{func() (string, error) { return r.sim.SendText(ctx, openid, "报事") }, "道路照明"},
		{func() (string, error) { return r.sim.SendText(ctx, openid, "道路照明") }, "描述"},
		{func() (string, error) { return r.sim.SendText(ctx, openid, "紫藤架下的井盖松动了好几天") }, "位置"},
		{func() (string, error) { return r.sim.SendLocation(ctx, openid, 22.355, 112.545, "紫藤架旁") }, "石桥"},
		{func() (string, error) { return r.sim.SendText(ctx, openid, "13700009876") }, "确认"},
		{func() (string, error) { return r.sim.SendText(ctx, openid, "确认") }, "编号："},
	} {
		reply, err := step.send()
		if err != nil || !strings.Contains(reply, step.want) {
			t.Fatalf("step %d: %q %v, want %q", i, reply, err, step.want)
		}
		if m := caseNumber.FindStringSubmatch(reply); m != nil {
			return m[1]
		}
	}
	t.Fatal("no case number")
	return ""
}

// valkeyDump saves the server's data, uncompressed (LZF would hide plain
// text from a search), and returns the dump file.
func valkeyDump(t *testing.T, addr string) []byte {
	t.Helper()
	ctx := context.Background()
	c, err := vk.NewClient(vk.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Do(ctx, c.B().ConfigSet().ParameterValue().ParameterValue("rdbcompression", "no").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, c.B().Save().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	dirs, err := c.Do(ctx, c.B().ConfigGet().Parameter("dir").Build()).AsStrMap()
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.Do(ctx, c.B().ConfigGet().Parameter("dbfilename").Build()).AsStrMap()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dirs["dir"], files["dbfilename"]))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// runCommand runs gridbot with args and stdin, and returns what it wrote.
func runCommand(stdin string, args ...string) (string, error) {
	var out bytes.Buffer
	err := Run(context.Background(), args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: io.Discard})
	return out.String(), err
}

// In a city the towns share the data keys: after a rotation gridbot keys
// reseal seals every town's store with the new key (or the one -town
// names), and each town reads its cases back.
func TestCityKeysReseal(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "data-keys")
	if out, err := runCommand("", "keys", "new", "-file", keyFile); err != nil {
		t.Fatalf("keys new: %v %s", err, out)
	}
	storeCfg := "store:\n  path: " + filepath.Join(dir, "gridbot.db") + "\ncrypto:\n  key_file: " + keyFile + "\n"
	r := bootCity(t, storeCfg)
	r.say("o-reseal-st", "1") // the town, by its number
	stCase := r.fileIn("o-reseal-st", shatangLat, shatangLng, "石桥")
	r.say("o-reseal-cs", "2")
	csCase := r.fileIn("o-reseal-cs", chishuiLat, chishuiLng, "大同")
	r.shutdown()
	if out, err := runCommand("", "keys", "rotate", "-file", keyFile); err != nil || !strings.Contains(out, "k2") {
		t.Fatalf("keys rotate: %v %s", err, out)
	}
	resealed := regexp.MustCompile(`(?m)^(\w+): resealed with key k2: (\d+) values`)
	counts := func(args ...string) map[string]string {
		t.Helper()
		out, err := runCommand("", append([]string{"keys", "reseal", "-config", r.cfgPath}, args...)...)
		if err != nil {
			t.Fatalf("keys reseal %v: %v %s", args, err, out)
		}
		got := map[string]string{}
		for _, m := range resealed.FindAllStringSubmatch(out, -1) {
			got[m[1]] = m[2]
		}
		return got
	}
	if got := counts("-town", "chishui"); len(got) != 1 || got["chishui"] == "" || got["chishui"] == "0" {
		t.Fatalf("reseal of chishui: %v, want its values resealed and no other town", got)
	}
	if got := counts(); len(got) != 2 || got["chishui"] != "0" || got["shatang"] == "" || got["shatang"] == "0" {
		t.Fatalf("reseal of the city: %v, want shatang's values resealed and chishui's already done", got)
	}
	if out, err := runCommand("", "keys", "reseal", "-config", r.cfgPath, "-town", "nosuch"); err == nil {
		t.Fatalf("reseal of an unknown town: %s", out)
	}
	r = bootCityWith(t, storeCfg, r.sim, r.apiURL)
	for _, tc := range []struct{ town, user, number string }{{"shatang", "gl-L10-a", stCase}, {"chishui", "cs-gl-L02-a", csCase}} {
		var page struct {
			Case struct {
				Number string `json:"number"`
				Text   string `json:"text"`
			} `json:"case"`
		}
		if status := r.loginTown(tc.town, tc.user).get("/api/cases/"+tc.number, &page); status != 200 || page.Case.Text == "" {
			t.Errorf("%s's case after the reseal: %d %+v", tc.town, status, page.Case)
		}
	}
}
