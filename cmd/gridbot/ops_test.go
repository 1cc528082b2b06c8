package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const open311Key = "hotline:0123456789abcdef0123"

// A case filed through Open311 reaches its grid leader like any other; a
// backup taken while serving, a wiped store and a restore bring every case
// back.
func TestOpen311BackupRestore(t *testing.T) {
	dir := t.TempDir()
	r := boot(t, rigOptions{dataDir: dir, extra: "open311:\n  api_keys: [\"" + open311Key + "\"]\n"})

	form := url.Values{"api_key": {"0123456789abcdef0123"}, "service_code": {"light"}, "lat": {"22.355"},
		"long": {"112.545"}, "description": {"热线转来：石桥村口路灯不亮"}}
	resp, err := http.PostForm(strings.TrimSuffix(r.urls.Console, "/")+"/open311/v2/requests.json", form)
	if err != nil {
		t.Fatal(err)
	}
	var receipt []struct {
		ID string `json:"service_request_id"`
	}
	json.NewDecoder(resp.Body).Decode(&receipt)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || len(receipt) != 1 {
		t.Fatalf("Open311 POST: %d %+v", resp.StatusCode, receipt)
	}
	viaOpen311 := receipt[0].ID
	// Reads are not public unless the town says so: the key goes in the body.
	listing := strings.TrimSuffix(r.urls.Console, "/") + "/open311/v2/requests.json"
	if resp, err := http.Get(listing); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("Open311 GET without a key: %v %v", resp, err)
	}
	req, _ := http.NewRequest(http.MethodGet, listing, strings.NewReader("api_key=0123456789abcdef0123"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	listed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(listed), viaOpen311) || strings.Contains(string(listed), "热线转来") {
		t.Fatalf("Open311 GET with a key: %d %s", resp.StatusCode, listed)
	}
	r.waitPush("osample-L10-a", viaOpen311)
	viaWeChat := r.fileByLocation("oresident-ops-1")
	r.waitPush("osample-L10-a", viaWeChat)

	backup := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	err = Run(context.Background(), []string{"backup", "-config", r.cfgPath, "-o", backup},
		Env{Stdout: &out, Stderr: io.Discard, Environ: []string{"GRIDBOT_ADMIN_ADDR=" + r.urls.Admin}})
	if err != nil || !strings.Contains(out.String(), "running instance") {
		t.Fatalf("online backup: %v %q", err, out.String())
	}
	r.shutdown()

	if err := os.Remove(filepath.Join(dir, "gridbot.db")); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), []string{"restore", "-config", r.cfgPath, "-i", backup},
		Env{Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	r2 := boot(t, rigOptions{dataDir: dir})
	admin := r2.login("town-admin")
	for _, n := range []string{viaOpen311, viaWeChat} {
		var view caseView
		if status := admin.get("/api/cases/"+n, &view); status != 200 || view.Case.Number != n {
			t.Fatalf("case %s after backup, wipe and restore: %d", n, status)
		}
	}
}

// Editing the town directory moves grid L10 to a new leader without a
// restart: the next case goes to them. An invalid edit changes nothing.
func TestTownReload(t *testing.T) {
	r := boot(t, rigOptions{environ: []string{"GRIDBOT_TOWN_WATCH_EVERY=50ms"}})
	first := r.fileByLocation("oresident-reload-1")
	r.waitPush("osample-L10-a", first)

	townPath := filepath.Join(r.dataDir, "town.yaml")
	good, err := os.ReadFile(townPath)
	if err != nil {
		t.Fatal(err)
	}
	// edit writes the file and waits for the watcher to log its verdict,
	// rather than sleeping for a guessed number of looks.
	edit := func(text, verdict string) {
		t.Helper()
		before := strings.Count(r.log.String(), verdict)
		if err := os.WriteFile(townPath, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(r.log.String(), verdict) == before {
			if time.Now().After(deadline) {
				t.Fatalf("the watcher never logged %q", verdict)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	moved := strings.Replace(string(good), "leader_a: gl-L10-a", "leader_a: gl-L11-a", 1)
	edit(moved, "town configuration reloaded")
	second := r.fileByLocation("oresident-reload-2")
	r.waitPush("osample-L11-a", second)

	// The refused edit is logged (edit waits for it) and changes nothing.
	edit(strings.Replace(moved, "leader_a: gl-L11-a", "leader_a: nobody", 1), "town configuration edit refused")
	third := r.fileByLocation("oresident-reload-3")
	r.waitPush("osample-L11-a", third)
}
