package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"gridbot/internal/valkeytest"
)

// fillThenServe fills a fresh store through `gridbot fill`, checks a
// second fill is refused, compacts it, then serves it: the console lists the history,
// and none of it is announced (no pushes for cases filed years ago).
func fillThenServe(t *testing.T, o rigOptions) {
	r := prepare(t, o)
	var out, errOut bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errOut, Environ: append([]string{"GRIDBOT_WECHAT_APP_SECRET=e2esecret"}, o.environ...)}
	ctx := context.Background()
	if err := Run(ctx, []string{"fill", "-config", r.cfgPath, "-cases", "120", "-years", "2"}, env); err != nil {
		t.Fatalf("fill: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "fill: 120 cases") {
		t.Fatalf("fill said %q", out.String())
	}
	err := Run(ctx, []string{"fill", "-config", r.cfgPath, "-cases", "5"}, Env{Stdout: io.Discard, Stderr: io.Discard,
		Environ: env.Environ})
	if err == nil || !strings.Contains(err.Error(), "already has cases") {
		t.Fatalf("a second fill: %v, want refused", err)
	}
	for _, bad := range [][]string{{"-cases", "0"}, {"-cases", "10", "-years", "0"}, {"-cases", "-3"}, {"-cases", "10", "-from", "10"}, {"-cases", "10", "-from", "-1"}} {
		if err := Run(ctx, append([]string{"fill", "-config", r.cfgPath}, bad...), Env{Stdout: io.Discard,
			Stderr: io.Discard, Environ: env.Environ}); err == nil {
			t.Errorf("fill %v: no error", bad)
		}
	}
	// The filled file is compacted (serve stopped) and then served; a
	// Valkey ledger has no file to compact.
	out.Reset()
	err = Run(ctx, []string{"compact", "-config", r.cfgPath}, env)
	if o.valkey == "" && (err != nil || !strings.Contains(out.String(), "compacted")) {
		t.Fatalf("compact: %v, said %q", err, out.String())
	}
	if o.valkey != "" && (err == nil || !strings.Contains(err.Error(), "only the embedded")) {
		t.Fatalf("compact on Valkey: %v", err)
	}

	o.dataDir = r.dataDir
	served := boot(t, o)
	admin := served.login("town-admin")
	var list struct {
		Cases []struct {
			Number string `json:"number"`
			State  string `json:"state"`
		} `json:"cases"`
	}
	if code := admin.get("/api/cases?state=closed", &list); code != 200 || len(list.Cases) < 60 {
		t.Fatalf("closed cases: %d, %d listed; want most of the 120", code, len(list.Cases))
	}
	// Give the router time to (wrongly) announce the past.
	time.Sleep(1500 * time.Millisecond)
	// The open cases are today's work and the sweep may warn about them;
	// the settled ones are the past.
	for _, p := range served.api.Pushes("") {
		for _, c := range list.Cases {
			if strings.Contains(p.Text, c.Number) {
				t.Fatalf("closed case %s was announced: %+v", c.Number, p)
			}
		}
	}
}

func TestFillEmbedded(t *testing.T) { fillThenServe(t, rigOptions{}) }

func TestFillValkey(t *testing.T) {
	fillThenServe(t, rigOptions{valkey: valkeytest.Addr(t), prefix: valkeytest.Prefix(t)})
}
