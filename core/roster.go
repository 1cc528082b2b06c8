package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Namespaces and key prefixes the Roster keeps its state under.
const (
	nsBindings   = "staff-bindings" // Records: openid → staff ID
	nsWeChat     = "staff-wechat"   // Records: staff ID → openid
	nsLeave      = "staff-leave"    // Records: staff ID → "away"
	keyBindCode  = "bindcode:"      // Ephemeral: code → staff ID
	keyBindTries = "bindtries:"     // Ephemeral counter: openid → tries
	keyBindAll   = "bindtries-all"  // Ephemeral counter: tries town-wide (bindcode.go)
	keyBindFails = "bindfails-all"  // Ephemeral counter: wrong codes town-wide
	keyLastCase  = "lastcase:"      // Ephemeral: openid → case number last pushed
)

// Defaults of the Roster.
const (
	DefaultBindCodeTTL = 10 * time.Minute
	// LastCaseTTL is how long "the case last pushed to me" stands in for a
	// case number a leader leaves out.
	LastCaseTTL = 24 * time.Hour
	// maxBindTries bounds bind codes tried per openid per bindTriesWindow.
	maxBindTries    = 5
	bindTriesWindow = time.Hour
)

// ErrBindLimit means too many wrong bind codes were tried.
var ErrBindLimit = errors.New("too many bind attempts")

// Roster links staff to their WeChat and keeps their leave. Staff given an
// openid in the directory are bound already; others bind with a short-lived
// code (绑定 CODE). Bindings and leave are durable records; codes and each
// leader's last pushed case are ephemeral. A nil *Roster knows only the
// directory.
type Roster struct {
	Town    TownSource
	Records Records
	Keys    Ephemeral
	// CodeTTL is how long a bind code lives; zero means DefaultBindCodeTTL.
	CodeTTL time.Duration
	// BindAttempts is how many codes the whole town may try in BindLock;
	// past it binding is locked until the window ends (bindcode.go). Zero
	// fields take their defaults.
	BindAttempts int
	BindLock     time.Duration
	// Log hears of wrong codes and of a lock, without who sent them; nil
	// discards.
	Log *slog.Logger
}

// StaffByOpenID returns the enabled staff member whose WeChat is openid, or
// nil: the directory first, then the bindings.
func (r *Roster) StaffByOpenID(ctx context.Context, openid string) (*Staff, error) {
	if r == nil || openid == "" {
		return nil, nil
	}
	town := r.Town.Town()
	s := town.StaffByOpenID(openid)
	if s == nil {
		// The whole (small) namespace, which stores keep at hand: most
		// senders are residents, and asking for their binding by name
		// would cost a round trip per message.
		bindings, err := r.Records.RecordsIn(ctx, nsBindings)
		if err != nil {
			return nil, fmt.Errorf("roster: binding: %w", err)
		}
		id, ok := bindings[openid]
		if !ok {
			return nil, nil
		}
		s = town.StaffMember(string(id))
	}
	if s == nil || s.Disabled {
		return nil, nil
	}
	return s, nil
}

// OpenID returns the WeChat openid of staff id: the directory's, or the
// bound one; "" when there is none.
func (r *Roster) OpenID(ctx context.Context, id string) (string, error) {
	if r == nil {
		return "", nil
	}
	s := r.Town.Town().StaffMember(id)
	if s == nil || s.Disabled {
		return "", nil
	}
	if s.OpenID != "" {
		return s.OpenID, nil
	}
	v, ok, err := r.Records.Record(ctx, nsWeChat, id)
	if err != nil {
		return "", fmt.Errorf("roster: wechat of %s: %w", id, err)
	}
	if !ok {
		return "", nil
	}
	return string(v), nil
}

// IssueBindCode returns a new code (bindcode.go) that binds the WeChat that
// sends it to staff id, valid for CodeTTL.
func (r *Roster) IssueBindCode(ctx context.Context, id string) (string, error) {
	s := r.Town.Town().StaffMember(id)
	if s == nil || s.Disabled {
		return "", fmt.Errorf("bind code for %q: %w", id, ErrNotFound)
	}
	ttl := r.CodeTTL
	if ttl <= 0 {
		ttl = DefaultBindCodeTTL
	}
	for range 10 {
		code, err := newBindCode()
		if err != nil {
			return "", fmt.Errorf("bind code: %w", err)
		}
		ok, err := r.Keys.SetNX(ctx, keyBindCode+code, []byte(id), ttl)
		if err != nil {
			return "", fmt.Errorf("bind code: %w", err)
		}
		if ok {
			return formatBindCode(code), nil
		}
	}
	return "", fmt.Errorf("bind code: no free code: %w", ErrConflict)
}

// Bind redeems code for openid. ErrInvalid: no such code (or expired);
// ErrConflict: the openid is already another staff member's; ErrBindLimit:
// too many codes tried lately, by this openid or by the whole town. Every
// try is counted before the code is looked up, so tries sent at once cannot
// outrun the count.
func (r *Roster) Bind(ctx context.Context, openid, code string) (*Staff, error) {
	code, wellFormed := normalBindCode(code)
	if !wellFormed {
		// Not a code at all: nothing is looked up, so nothing is guessed.
		return nil, fmt.Errorf("bind: code shape: %w", ErrInvalid)
	}
	if err := r.chargeBindTry(ctx, openid); err != nil {
		return nil, err
	}
	id, ok, err := r.Keys.Get(ctx, keyBindCode+code)
	if err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	town := r.Town.Town()
	s := town.StaffMember(string(id))
	if !ok || s == nil || s.Disabled {
		r.noteWrongCode(ctx)
		return nil, fmt.Errorf("bind: code: %w", ErrInvalid)
	}
	if other, err := r.StaffByOpenID(ctx, openid); err != nil {
		return nil, err
	} else if other != nil && other.ID != s.ID {
		return nil, fmt.Errorf("bind: openid belongs to %s: %w", other.ID, ErrConflict)
	}
	if s.OpenID != "" && s.OpenID != openid {
		return nil, fmt.Errorf("bind: %s has a configured openid: %w", s.ID, ErrConflict)
	}
	if err := r.Keys.Delete(ctx, keyBindCode+code); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	if old, ok, err := r.Records.Record(ctx, nsWeChat, s.ID); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	} else if ok && string(old) != openid {
		if err := r.Records.DeleteRecord(ctx, nsBindings, string(old)); err != nil {
			return nil, fmt.Errorf("bind: %w", err)
		}
	}
	if err := r.Records.PutRecord(ctx, nsBindings, openid, []byte(s.ID)); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	if err := r.Records.PutRecord(ctx, nsWeChat, s.ID, []byte(openid)); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	return s, nil
}

// Away reports which of ids are on leave, by the directory or by 请假.
func (r *Roster) Away(ctx context.Context, ids ...string) (map[string]bool, error) {
	out := map[string]bool{}
	if r == nil {
		return out, nil
	}
	town := r.Town.Town()
	for _, id := range ids {
		if s := town.StaffMember(id); s != nil && s.Away {
			out[id] = true
			continue
		}
		_, ok, err := r.Records.Record(ctx, nsLeave, id)
		if err != nil {
			return nil, fmt.Errorf("roster: leave of %s: %w", id, err)
		}
		out[id] = ok
	}
	return out, nil
}

// SetAway records that staff id is away (请假) or back (销假). The
// directory's away flag is configuration and stays as it is.
func (r *Roster) SetAway(ctx context.Context, id string, away bool) error {
	var err error
	if away {
		err = r.Records.PutRecord(ctx, nsLeave, id, []byte("away"))
	} else {
		err = r.Records.DeleteRecord(ctx, nsLeave, id)
	}
	if err != nil {
		return fmt.Errorf("roster: set leave of %s: %w", id, err)
	}
	return nil
}

// SetLastCase remembers the case last pushed to openid.
func (r *Roster) SetLastCase(ctx context.Context, openid, number string) error {
	if r == nil {
		return nil
	}
	if err := r.Keys.Set(ctx, keyLastCase+openid, []byte(number), LastCaseTTL); err != nil {
		return fmt.Errorf("roster: last case: %w", err)
	}
	return nil
}

// LastCase returns the case last pushed to openid, or "".
func (r *Roster) LastCase(ctx context.Context, openid string) (string, error) {
	v, _, err := r.Keys.Get(ctx, keyLastCase+openid)
	if err != nil {
		return "", fmt.Errorf("roster: last case: %w", err)
	}
	return string(v), nil
}
