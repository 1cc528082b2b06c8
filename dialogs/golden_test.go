package dialogs

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbot/core"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/ from the current behaviour")

// TestTranscripts replays each testdata/*.txt against a Service (so the
// session goes through JSON and the store between every message) and
// compares the replies with the file.
//
// Transcript format, one item a line:
//
//	# comment            kept as is; blank lines too
//	> 报事               the resident sends a text
//	> [image]            … a photo
//	> [location 22.351 112.561 东门]   … a location (lat, lng, label)
//	> [voice 报事]  > [voice]          … voice with and without recognition
//	> [click REPORT]  > [subscribe]  > [unsubscribe]  > [event VIEW]  > [other]
//	< …                  the expected reply, one line each; "< [no reply]" for ""
//	> [wait 31m]         harness: advance the clock (no reply)
//	> [fail submit]      harness: the next Submit / OpenCases ("cases") / Rate fails
//	> [fail submit-reply]   harness: the next Submit files the case, then fails
//	> [state ST202611250001 resolved]   harness: staff move a case
//	> [ledger]           harness: "= " lines showing what the ledger was given
//	> [session]          harness: "= " line showing the saved session
//	> [records]          harness: "= " lines showing the durable records (households …)
//	> [as o-neighbour]   harness: later lines are sent by this openid ("[as]": the usual resident)
//	> [notice ST202611250001 replied 明天去修]   harness: staff's step on a case's log
//
// Lines starting "<" or "=" are regenerated on every run; with -update the
// file is rewritten with them.
func TestTranscripts(t *testing.T) {
	goldenFiles(t, filepath.Join("testdata", "*.txt"), runTranscript)
}

// goldenFiles runs each transcript matching pattern through run and compares
// the result with the file (or, with -update, rewrites the file).
func goldenFiles(t *testing.T, pattern string, run func(*testing.T, string) string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts match %s: %v", pattern, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := string(b)
			got := run(t, want)
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("transcript differs (run with -update to accept):\n%s", firstDiff(want, got))
			}
		})
	}
}

func runTranscript(t *testing.T, src string) string {
	t.Helper()
	h := newHarness(t)
	ctx := context.Background()
	var out strings.Builder
	media := 0
	inputs := 0
	from := testResident
	for n, line := range strings.Split(strings.TrimRight(src, "\n"), "\n") {
		if strings.HasPrefix(line, "<") || strings.HasPrefix(line, "=") {
			continue
		}
		out.WriteString(line + "\n")
		in, ok := strings.CutPrefix(line, "> ")
		if !ok {
			continue
		}
		inputs++
		emit := func(prefix, text string) {
			for _, l := range strings.Split(text, "\n") {
				out.WriteString(strings.TrimRight(prefix+l, " ") + "\n")
			}
		}
		m := core.Message{From: from, Kind: core.MessageText, Text: in}
		if strings.HasPrefix(in, "[") && strings.HasSuffix(in, "]") {
			f := strings.Fields(in[1 : len(in)-1])
			if len(f) == 0 {
				t.Fatalf("line %d: empty directive", n+1)
			}
			args := f[1:]
			switch f[0] {
			case "wait":
				d, err := time.ParseDuration(strings.Join(args, ""))
				if err != nil {
					t.Fatalf("line %d: %v", n+1, err)
				}
				h.clock.Advance(d)
				continue
			case "fail":
				h.ledger.failNext(strings.Join(args, ""))
				continue
			case "state":
				if len(args) != 2 {
					t.Fatalf("line %d: [state NUMBER STATE]", n+1)
				}
				if err := h.ledger.setState(args[0], core.State(args[1])); err != nil {
					t.Fatalf("line %d: %v", n+1, err)
				}
				continue
			case "ledger":
				emit("= ", dumpLedger(h.ledger))
				continue
			case "session":
				emit("= ", dumpSession(t, h))
				continue
			case "records":
				recs := h.records.dump()
				if len(recs) == 0 {
					recs = []string{"no records"}
				}
				emit("= ", strings.Join(recs, "\n"))
				continue
			case "as":
				from = testResident
				if len(args) > 0 {
					from = args[0]
				}
				continue
			case "notice":
				if len(args) < 2 {
					t.Fatalf("line %d: [notice NUMBER KIND TEXT]", n+1)
				}
				h.ledger.notice(args[0], core.EventKind(args[1]), strings.Join(args[2:], " "))
				continue
			case "image":
				media++
				m = core.Message{From: from, Kind: core.MessageImage,
					MediaID: fmt.Sprintf("media-%d", media), PicURL: fmt.Sprintf("http://pic.example/%d.jpg", media)}
			case "location":
				if len(args) < 2 {
					t.Fatalf("line %d: [location LAT LNG LABEL]", n+1)
				}
				lat, err1 := strconv.ParseFloat(args[0], 64)
				lng, err2 := strconv.ParseFloat(args[1], 64)
				if err1 != nil || err2 != nil {
					t.Fatalf("line %d: bad coordinates", n+1)
				}
				m = core.Message{From: from, Kind: core.MessageLocation,
					Location: &core.Location{Point: core.Point{Lat: lat, Lng: lng}, Label: strings.Join(args[2:], " ")}}
			case "voice":
				media++
				m = core.Message{From: from, Kind: core.MessageVoice, MediaID: fmt.Sprintf("voice-%d", media), Text: strings.Join(args, " ")}
			case "click":
				m = core.Message{From: from, Kind: core.MessageEvent, Event: core.EventNameClick, EventKey: strings.Join(args, "")}
			case "subscribe":
				m = core.Message{From: from, Kind: core.MessageEvent, Event: core.EventNameSubscribe}
			case "unsubscribe":
				m = core.Message{From: from, Kind: core.MessageEvent, Event: core.EventNameUnsubscribe}
			case "event":
				m = core.Message{From: from, Kind: core.MessageEvent, Event: strings.Join(args, "")}
			case "other":
				m = core.Message{From: from, Kind: core.MessageOther}
			default:
				t.Fatalf("line %d: unknown directive %q", n+1, f[0])
			}
		}
		reply, err := h.svc.Respond(ctx, m)
		if err != nil {
			t.Fatalf("line %d: Respond: %v", n+1, err)
		}
		if strings.Contains(reply, "internal") || strings.Contains(reply, "fake ledger") {
			t.Fatalf("line %d: internal error text reached the resident: %q", n+1, reply)
		}
		if reply == "" {
			reply = "[no reply]"
		}
		emit("< ", reply)
	}
	if inputs == 0 {
		t.Fatal("transcript has no input lines")
	}
	return out.String()
}

func dumpLedger(l *fakeLedger) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.cases) == 0 {
		return "no cases"
	}
	var lines []string
	for _, c := range l.cases {
		var photos []string
		for _, p := range c.Photos {
			photos = append(photos, p.MediaID)
		}
		loc := "-"
		if c.Location != nil {
			loc = fmt.Sprintf("%.3f,%.3f %s", c.Location.Lat, c.Location.Lng, c.Location.Label)
		}
		line := fmt.Sprintf("%s %s category=%s village=%s grid=%s phone=%q photos=[%s] location=%s text=%q",
			c.Number, c.State, c.Category, c.Village, c.Grid, c.Phone, strings.Join(photos, " "), loc, c.Text)
		if c.Resident != testResident {
			line += " resident=" + c.Resident
		}
		if c.Address != "" {
			line += fmt.Sprintf(" address=%q", c.Address)
		}
		var voices []string
		for _, v := range c.Voices {
			voices = append(voices, v.MediaID)
		}
		if len(voices) > 0 {
			line += " voices=[" + strings.Join(voices, " ") + "]"
		}
		if len(c.Joined) > 0 {
			line += " joined=[" + strings.Join(c.Joined, " ") + "]"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func dumpSession(t *testing.T, h *harness) string {
	t.Helper()
	b, ok, err := h.store.Get(context.Background(), SessionKey(testResident))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "no session"
	}
	return "session " + string(b)
}

// firstDiff shows where two transcripts part.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d\nwant: %s\n got: %s", i+1, wl, gl)
		}
	}
	return "(no line differs; trailing newline?)"
}
