package dialogs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"gridbot/core"
)

// DefaultSessionTTL is how long a saved session is kept when Service.TTL is
// zero. It outlives the idle timeout so that a resident who comes back late
// is told their dialog expired instead of meeting a bare menu.
const DefaultSessionTTL = 24 * time.Hour

// SessionKey is the core.Ephemeral key of a resident's session.
func SessionKey(openid string) string { return "session:" + openid }

// Service answers residents' messages: it loads the sender's session, runs
// the Engine, and saves the session again, or deletes it when the dialog has
// ended. It is what the WeChat adapter calls (bot.Responder).
type Service struct {
	Engine *Engine
	Store  core.Ephemeral
	// TTL is how long a saved session lives; zero means DefaultSessionTTL.
	// Keep it longer than the Engine's IdleTimeout.
	TTL time.Duration
	// Logger receives store hiccups that did not stop the answer; nil
	// discards them.
	Logger *slog.Logger
	// Desk answers bound staff and 绑定; nil means everyone is a resident.
	Desk *Desk
}

func (sv *Service) log() *slog.Logger {
	if sv.Logger != nil {
		return sv.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ReadsFirst names the key Respond reads first, the sender's session
// (bot.Prefetcher): the callback reads it in the round trip of its retry
// check, and Respond takes it from the ctx (core.ReadAhead).
func (sv *Service) ReadsFirst(m core.Message) []string {
	if m.From == "" {
		return nil
	}
	if sv.Engine != nil && sv.Engine.Script != nil {
		return []string{SessionKey(m.From), core.ScriptKey(m.From)}
	}
	return []string{SessionKey(m.From)}
}

// readsTraditional reports whether the resident's script is remembered as
// traditional (core.ScriptKey), from the read-ahead when there is one.
func (sv *Service) readsTraditional(ctx context.Context, openid string) bool {
	key := core.ScriptKey(openid)
	raw, found, err := []byte(nil), false, error(nil)
	if read, ok := core.ReadAhead(ctx, key); ok {
		raw, found, err = read.Got, read.OK, read.Err
	} else {
		raw, found, err = sv.Store.Get(ctx, key)
	}
	if err != nil {
		sv.log().WarnContext(ctx, "dialogs: resident's script not read", "err", err)
		return false
	}
	return found && string(raw) == core.ScriptTraditional
}

// rememberScript keeps the resident's script for the notices pushed to
// them later: with the session's write when the caller batches writes.
func (sv *Service) rememberScript(ctx context.Context, openid string, traditional bool) {
	op := core.KeyOp{Kind: core.KeyDelete, Key: core.ScriptKey(openid)}
	if traditional {
		op = core.KeyOp{Kind: core.KeySet, Key: op.Key, Value: []byte(core.ScriptTraditional), TTL: core.ScriptTTL}
	}
	if core.DeferKeyWrite(ctx, op) {
		return
	}
	var err error
	if traditional {
		err = sv.Store.Set(ctx, op.Key, op.Value, op.TTL)
	} else {
		err = sv.Store.Delete(ctx, op.Key)
	}
	if err != nil {
		sv.log().WarnContext(ctx, "dialogs: resident's script not kept", "err", err)
	}
}

// Respond answers one message. It returns an error only when the session
// store fails before the answer is settled; the caller then tells the
// resident it is busy. A reply of "" means nothing to say. When ctx carries
// core.KeyWrites the session's write is left there, and the caller owns
// its failure (the callback sends it with its stored reply).
func (sv *Service) Respond(ctx context.Context, m core.Message) (string, error) {
	if m.From == "" {
		// Nobody to keep a session for; answer without one.
		var s Session
		return sv.Engine.Step(ctx, &s, m), nil
	}
	key := SessionKey(m.From)
	if sv.Desk != nil {
		reply, ok, err := sv.Desk.Answer(ctx, m)
		if err != nil {
			return "", fmt.Errorf("dialogs: staff desk: %w", err)
		}
		if ok {
			return reply, nil
		}
	}
	var raw []byte
	var found bool
	var err error
	if read, ok := core.ReadAhead(ctx, key); ok {
		raw, found, err = read.Got, read.OK, read.Err
	} else {
		raw, found, err = sv.Store.Get(ctx, key)
	}
	if err != nil {
		return "", fmt.Errorf("dialogs: load session: %w", err)
	}
	var s Session
	if found {
		if err := json.Unmarshal(raw, &s); err != nil {
			// A session this version cannot read: start afresh.
			sv.log().WarnContext(ctx, "dialogs: unreadable session dropped", "err", err)
			s = Session{}
		}
	}
	if !found && sv.Engine.Script != nil {
		// A new dialog starts in the script the resident last wrote.
		s.Traditional = sv.readsTraditional(ctx, m.From)
	}
	traditional := s.Traditional
	reply := sv.Engine.Step(ctx, &s, m)
	switch {
	case s.forgotten:
		// 注销 erases the remembered script with the rest; the reply
		// itself is still in the script the resident wrote it in.
		sv.rememberScript(ctx, m.From, false)
	case s.Traditional != traditional:
		sv.rememberScript(ctx, m.From, s.Traditional)
	}
	if s.Active() {
		b, err := json.Marshal(s)
		if err != nil {
			return "", fmt.Errorf("dialogs: encode session: %w", err)
		}
		ttl := sv.TTL
		if ttl <= 0 {
			ttl = DefaultSessionTTL
		}
		// Left to the caller when it batches its own writes with ours
		// (the callback's stored reply), else written now.
		save := core.KeyOp{Kind: core.KeySet, Key: key, Value: b, TTL: ttl}
		if core.DeferKeyWrite(ctx, save) {
			return reply, nil
		}
		if err := sv.Store.Set(ctx, key, b, ttl); err != nil {
			return "", fmt.Errorf("dialogs: save session: %w", err)
		}
		return reply, nil
	}
	if found {
		if err := sv.Store.Delete(ctx, key); err != nil {
			// The dialog has ended (perhaps with a case filed, whose number
			// is in the reply); the stale session expires on its own.
			sv.log().ErrorContext(ctx, "dialogs: delete session failed", "err", err)
		}
	}
	return reply, nil
}
