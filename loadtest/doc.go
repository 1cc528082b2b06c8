// Package loadtest is gridbot's load generator and its fault drills: it plays
// WeChat's servers at speed against running gridbot processes on loopback
// (signed, optionally encrypted callbacks through wechatsim; wechatsim also
// answers the API the bot pushes to), connects staff consoles over the
// websocket, and measures throughput, passive-reply latency, the time from a
// resident's 确认 to the event on a console, errors, and each process's CPU
// and memory from /proc.
//
// Every figure is measured side by side with a peer: a baseline bot written
// with github.com/silenceper/wechat/v2 alone that echoes text back (Baseline),
// run as its own process in the same run on the same machine, so the report
// gives each figure as a ratio to the peer's.
//
// Only 127.0.0.1 is ever a target, and every loop is bounded in count and
// time. cmd/gridload is the command; Run is the whole benchmark and Soak the
// run with faults injected.
package loadtest
