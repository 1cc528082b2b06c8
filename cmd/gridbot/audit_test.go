package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vk "github.com/valkey-io/valkey-go"
	bolt "go.etcd.io/bbolt"

	"gridbot/audit"
	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store/embedded"
)

// auditConfig writes a configuration naming the sample town and extra
// settings, and returns its path.
func auditConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "gridbot.yaml")
	text := "town:\n  directory: ../../configs/town.yaml\n  categories: ../../configs/categories.yaml\n" + extra
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runAuditVerify runs gridbot audit verify and returns its output and
// error.
func runAuditVerify(t *testing.T, cfg string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"audit", "verify", "-config", cfg},
		Env{Stdout: &out, Stderr: &errOut, Environ: []string{"USER=tester"}})
	return out.String(), err
}

// fiveRecords writes five audit records through the trail.
func fiveRecords(t *testing.T, st core.AuditStore) {
	t.Helper()
	trail := &audit.Trail{Store: st}
	for i := range 5 {
		if err := trail.Record(context.Background(), core.AuditRecord{Actor: "gl-L10-a", Addr: "10.1.2.3",
			Action: core.AuditViewCase, Object: fmt.Sprintf("ST20261203%04d", i), Detail: "含电话、地址和位置"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditVerifyFindsEditAndDeletion: on the embedded store, gridbot audit
// verify passes a whole trail, and names the record when one is edited in
// the bbolt file (even its hash recomputed) or deleted from it.
func TestAuditVerifyFindsEditAndDeletion(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "gridbot.db")
	cfg := auditConfig(t, "store:\n  path: "+dbPath+"\n")
	st, err := embedded.Open(dbPath, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	fiveRecords(t, st)
	st.Close()
	if out, err := runAuditVerify(t, cfg); err != nil || !strings.Contains(out, "5 records checked") || !strings.Contains(out, "whole") {
		t.Fatalf("a whole trail: %v\n%s", err, out)
	}
	edit := func(fn func(b *bolt.Bucket) error) {
		t.Helper()
		db, err := bolt.Open(dbPath, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("audit"))) }); err != nil {
			t.Fatal(err)
		}
	}
	key := func(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
	rewrite := func(seq uint64, change func(*core.AuditRecord)) func(b *bolt.Bucket) error {
		return func(b *bolt.Bucket) error {
			var r core.AuditRecord
			if err := json.Unmarshal(b.Get(key(seq)), &r); err != nil {
				return err
			}
			change(&r)
			raw, _ := json.Marshal(r)
			return b.Put(key(seq), raw)
		}
	}
	// Someone hides who read case 2: the record's content no longer
	// matches its hash.
	edit(rewrite(3, func(r *core.AuditRecord) { r.Actor = "town-admin" }))
	out, err := runAuditVerify(t, cfg)
	if err == nil || !strings.Contains(out, "record 3: its content does not match its hash") {
		t.Fatalf("an edited record: %v\n%s", err, out)
	}
	// A careful editor recomputes the hash too: the next record's link
	// breaks.
	edit(rewrite(3, func(r *core.AuditRecord) { r.Hash = audit.Hash(*r) }))
	out, err = runAuditVerify(t, cfg)
	if err == nil || !strings.Contains(out, "record 4: does not chain to record 3") {
		t.Fatalf("an edited record with its hash recomputed: %v\n%s", err, out)
	}
	// A deletion leaves a gap.
	edit(func(b *bolt.Bucket) error { return b.Delete(key(3)) })
	out, err = runAuditVerify(t, cfg)
	if err == nil || !strings.Contains(out, "records 3 to 3 are missing") {
		t.Fatalf("a deleted record: %v\n%s", err, out)
	}
}

// TestAuditVerifyOnValkey: the same on the Valkey store, edited and
// deleted with plain commands on the server.
func TestAuditVerifyOnValkey(t *testing.T) {
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	cfg := auditConfig(t, "store:\n  kind: valkey\nvalkey:\n  addr: [\""+addr+"\"]\n  prefix: \""+prefix+"\"\n")
	b, _, _, err := openConfigured(context.Background(), cfg, Env{Stderr: os.Stderr}, "audit-test")
	if err != nil {
		t.Fatal(err)
	}
	fiveRecords(t, b.store)
	b.close()
	if out, err := runAuditVerify(t, cfg); err != nil || !strings.Contains(out, "5 records checked") {
		t.Fatalf("a whole trail: %v\n%s", err, out)
	}
	client, err := vk.NewClient(vk.ClientOption{InitAddress: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	key := prefix + "{au}:audit"
	raws, err := client.Do(ctx, client.B().Zrangebyscore().Key(key).Min("2").Max("2").Build()).AsStrSlice()
	if err != nil || len(raws) != 1 {
		t.Fatalf("record 2: %v %v", err, raws)
	}
	edited := strings.Replace(raws[0], "10.1.2.3", "10.9.9.9", 1)
	if err := client.Do(ctx, client.B().Zrem().Key(key).Member(raws[0]).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if err := client.Do(ctx, client.B().Zadd().Key(key).ScoreMember().ScoreMember(2, edited).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	out, err := runAuditVerify(t, cfg)
	if err == nil || !strings.Contains(out, "record 2: its content does not match its hash") {
		t.Fatalf("an edited record: %v\n%s", err, out)
	}
	if err := client.Do(ctx, client.B().Zremrangebyscore().Key(key).Min("4").Max("4").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	out, err = runAuditVerify(t, cfg)
	if err == nil || !strings.Contains(out, "records 4 to 4 are missing") {
		t.Fatalf("a deleted record: %v\n%s", err, out)
	}
}

// TestServeAsksForASecondFactor: serve's default asks every console login
// for an authenticator code: a password alone opens no session; the first
// login enrols and then works.
func TestServeAsksForASecondFactor(t *testing.T) {
	r := boot(t, rigOptions{secondFactor: true})
	stranger := &staffClient{r: r, http: &http.Client{Timeout: 5 * time.Second}, base: strings.TrimSuffix(r.urls.Console, "/")}
	jar, _ := cookiejar.New(nil)
	stranger.http.Jar = jar
	var out map[string]any
	if status := stranger.post("/api/login", map[string]string{"username": "gl-L10-b", "password": testPassword}, &out); status != 200 ||
		out["second_factor"] != "enrol" {
		t.Fatalf("password step: %d %v", status, out)
	}
	if status := stranger.get("/api/me", nil); status != http.StatusUnauthorized {
		t.Errorf("a password alone: /api/me %d, want 401", status)
	}
	c := r.login("gl-L10-a") // enrols through the code step
	if status := c.get("/api/me", nil); status != 200 {
		t.Errorf("after the code: /api/me %d", status)
	}
}

// TestServeEndsOlderSessions: serve's default (security.concurrent_sessions:
// end_older) — a second login of one person ends the first, on every
// instance, and the first is told why.
func TestServeEndsOlderSessions(t *testing.T) {
	r := boot(t, rigOptions{environ: []string{"GRIDBOT_SECURITY_CONCURRENT_SESSIONS=end_older"}})
	first := r.login("gl-L10-a")
	if status := first.get("/api/me", nil); status != 200 {
		t.Fatalf("first session: %d", status)
	}
	second := r.login("gl-L10-a")
	var out map[string]string
	if status := first.get("/api/me", &out); status != http.StatusUnauthorized || !strings.Contains(out["error"], "已在其他地方登录") {
		t.Errorf("the first session after a second login: %d %v", status, out)
	}
	if status := second.get("/api/me", nil); status != 200 {
		t.Errorf("the second session: %d", status)
	}
}
