package loadtest

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ratio formats a/b.
func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func durRatio(a, b time.Duration) string { return ratio(float64(a), float64(b)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// Markdown writes the report as the tables of docs/benchmarks.md.
func (r *Report) Markdown(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "Run of %s: %d residents at once, %s per phase, modes %s.\n\n",
		r.Started.Format("2006-01-02 15:04"), o.Workers, o.Phase, strings.Join(o.Modes, ", "))
	fmt.Fprintln(w, "| what | gridbot | baseline (SDK echo) | ratio | target | |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, mode := range []string{"plain", "safe"} {
		m, ok := r.Idle[mode]
		if !ok {
			continue
		}
		g, b := m[0], m[1]
		fmt.Fprintf(w, "| idle messages (menu answers), %s mode: messages/s | %.0f | %.0f | %s | ≥ 1.0× | %s |\n",
			mode, g.Rate(), b.Rate(), ratio(g.Rate(), b.Rate()), verdict(g.Rate() >= b.Rate()))
		fmt.Fprintf(w, "| … passive reply p50 / p90 / p99 | %s / %s / %s | %s / %s / %s | %s / %s / %s | | |\n",
			ms(g.Latency.P50), ms(g.Latency.P90), ms(g.Latency.P99), ms(b.Latency.P50), ms(b.Latency.P90), ms(b.Latency.P99),
			durRatio(g.Latency.P50, b.Latency.P50), durRatio(g.Latency.P90, b.Latency.P90), durRatio(g.Latency.P99, b.Latency.P99))
		fmt.Fprintf(w, "| … CPU per message (server process) | %s | %s | %s | | |\n",
			us(g.CPUPerMsg()), us(b.CPUPerMsg()), durRatio(g.CPUPerMsg(), b.CPUPerMsg()))
		fmt.Fprintf(w, "| … CPU per message (the load generator, reading that answer) | %s | %s | %s | | |\n",
			us(g.GenCPUPerMsg()), us(b.GenCPUPerMsg()), durRatio(g.GenCPUPerMsg(), b.GenCPUPerMsg()))
		fmt.Fprintf(w, "| … errors | %d | %d | | | |\n", g.ErrCount, b.ErrCount)
	}
	b := r.BaselinePl
	for _, k := range []struct{ key, label, target string }{
		{"session-embedded", "dialog steps (each reads and writes the session; 报事 … summary, 取消), embedded", "0.7"},
		{"embedded", "whole intakes to a filed case (报事 … 确认; the case's routing, push and console feed run in the same process), embedded", ""},
		{"session-valkey", "dialog steps (session read + write), Valkey, two instances, each dialog hopping between them", "0.5"},
		{"valkey", "whole intakes to a filed case, Valkey, two instances", ""},
	} {
		d, ok := r.Dialogs[k.key]
		if !ok {
			continue
		}
		base := b
		if vb, ok := r.Dialogs[k.key+"-baseline"]; ok {
			base = vb
		}
		cases := ""
		if d.Cases > 0 {
			cases = fmt.Sprintf(" (%d cases, %.0f/s)", d.Cases, float64(d.Cases)/d.Wall.Seconds())
		}
		// A whole intake carries a case's work per six steps: it has no
		// target of its own (the targets are for dialog steps).
		target, met := "—", ""
		if k.target != "" {
			var want float64
			fmt.Sscan(k.target, &want)
			target, met = "≥ "+k.target+"×", verdict(d.Rate() >= want*base.Rate())
		}
		fmt.Fprintf(w, "| %s: steps/s | %.0f%s | %.0f | %s | %s | %s |\n", k.label, d.Rate(), cases,
			base.Rate(), ratio(d.Rate(), base.Rate()), target, met)
		fmt.Fprintf(w, "| … passive reply p50 / p90 / p99 | %s / %s / %s | %s / %s / %s | %s / %s / %s | | |\n",
			ms(d.Latency.P50), ms(d.Latency.P90), ms(d.Latency.P99), ms(base.Latency.P50), ms(base.Latency.P90), ms(base.Latency.P99),
			durRatio(d.Latency.P50, base.Latency.P50), durRatio(d.Latency.P90, base.Latency.P90), durRatio(d.Latency.P99, base.Latency.P99))
		if d.Confirm.N > 0 {
			fmt.Fprintf(w, "| … the 确认 step alone p50 / p99 | %s / %s | | | | |\n", ms(d.Confirm.P50), ms(d.Confirm.P99))
		}
		cpuNote := ""
		if strings.Contains(k.key, "valkey") {
			cpuNote = " (both instances + the Valkey server)"
		}
		fmt.Fprintf(w, "| … CPU per step%s | %s | %s | %s | | |\n", cpuNote, us(d.CPUPerMsg()), us(base.CPUPerMsg()), durRatio(d.CPUPerMsg(), base.CPUPerMsg()))
		if d.Server.Commands > 0 && d.Msgs > 0 {
			per := func(n int64) float64 { return float64(n) / float64(d.Msgs) }
			fmt.Fprintf(w, "| … Valkey server per step: commands / socket reads / socket writes | %.1f / %.1f / %.1f | | | | |\n",
				per(d.Server.Commands), per(d.Server.Reads), per(d.Server.Writes))
		}
		fmt.Fprintf(w, "| … errors | %d | | | | |\n", d.ErrCount)
		if dr, ok := r.Drain[k.key]; ok {
			txt := dr.Round(time.Millisecond).String()
			if dr < 0 {
				txt = "not within a minute"
			}
			fmt.Fprintf(w, "| … the last case of the phase reached its leader, after the load stopped | %s later | | | | |\n", txt)
		}
	}
	for _, k := range []struct{ key, label string }{
		{"embedded", "确认 → event on a console, embedded"},
		{"valkey", "确认 on instance A → event on a console of instance B, Valkey"},
	} {
		c, ok := r.Confirm[k.key]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s, at %.0f new cases/s (%d cases): p50 / p99 | %s / %s | (echo p99 %s) | %s of the echo p99 | p99 < 50 ms | %s |\n",
			k.label, c.Rate, c.Cases, ms(c.Latency.P50), ms(c.Latency.P99), ms(b.Latency.P99),
			durRatio(c.Latency.P99, b.Latency.P99), verdict(c.Latency.N > 0 && c.Missing == 0 && c.Latency.P99 < 50*time.Millisecond))
		if c.Missing > 0 {
			fmt.Fprintf(w, "| … confirmed but never on the console | %d | | | 0 | |\n", c.Missing)
		}
	}
	if f := r.Fanout; f != nil {
		fmt.Fprintf(w, "| console websockets open on one instance | %d of %d | | | 5,000 | %s |\n", f.Open, f.Wanted, verdict(f.Open >= 5000))
		fmt.Fprintf(w, "| … each event reaching all of them (%d cases, %d of %d deliveries): p50 / p99 | %s / %s | (echo p99 %s) | %s of the echo p99 | p99 < 250 ms | %s |\n",
			f.Cases, f.Deliveries, f.Expected, ms(f.Latency.P50), ms(f.Latency.P99), ms(b.Latency.P99), durRatio(f.Latency.P99, b.Latency.P99),
			verdict(f.Deliveries == f.Expected && f.Latency.P99 < 250*time.Millisecond))
		fmt.Fprintf(w, "| … memory per connection (RSS %s → %s) | %.1f KB | | | < 30 KB | %s |\n",
			mib(f.RSSBefore), mib(f.RSSAfter), float64(f.PerConnBytes)/1000, verdict(f.PerConnBytes < 30_000))
		if len(f.Closed) > 0 {
			fmt.Fprintf(w, "| … connections the server closed, by code | %v | | | none | |\n", f.Closed)
		}
	}
	rr := r.Rest
	fmt.Fprintf(w, "| memory at rest (`gridbot demo`, sample town) | %s | %s | %s | < 50 MB | %s |\n",
		mib(rr.DemoRSS), mib(rr.BaselineRSS), ratio(float64(rr.DemoRSS), float64(rr.BaselineRSS)), verdict(rr.DemoRSS < 50_000_000))
	fmt.Fprintf(w, "| start-up, exec → first healthy answer (demo; serve) | %s; %s | %s | %s | < 1 s | %s |\n",
		rr.DemoReady.Round(time.Millisecond), rr.ServeReady.Round(time.Millisecond), rr.BaselineReady.Round(time.Millisecond),
		durRatio(rr.DemoReady, rr.BaselineReady), verdict(rr.DemoReady < time.Second && rr.ServeReady < time.Second))
	fmt.Fprintln(w)
	var errs []string
	for mode, m := range r.Idle {
		if m[0].ErrCount > 0 {
			errs = append(errs, fmt.Sprintf("idle %s, gridbot: %s", mode, m[0].Errors))
		}
		if m[1].ErrCount > 0 {
			errs = append(errs, fmt.Sprintf("idle %s, baseline: %s", mode, m[1].Errors))
		}
	}
	for k, d := range r.Dialogs {
		if d.ErrCount > 0 {
			errs = append(errs, fmt.Sprintf("dialogs %s: %s", k, d.Errors))
		}
	}
	for k, c := range r.Confirm {
		if c.Errors != "none" && c.Errors != "" {
			errs = append(errs, fmt.Sprintf("确认 → console %s: %s", k, c.Errors))
		}
	}
	if f := r.Fanout; f != nil && f.DialErrors != "none" {
		errs = append(errs, "console dials: "+f.DialErrors)
	}
	slices.Sort(errs)
	if len(errs) > 0 {
		fmt.Fprintln(w, "Errors:")
		for _, e := range errs {
			fmt.Fprintln(w, "- "+e)
		}
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "- "+n)
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }
