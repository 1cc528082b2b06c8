package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Namespaces and key prefixes the Roster keeps its state under. Bindings
// are kept per channel: WeChat's under the names they always had.
const (
	nsBindings   = "staff-bindings"  // Records: address ID → staff ID (WeChat; other channels add -channel)
	nsAddressOf  = "staff-"          // Records, + channel: staff ID → address ID (staff-wechat, staff-wecom)
	nsLeave      = "staff-leave"     // Records: staff ID → "away"
	nsPrefers    = "staff-prefers"   // Records: staff ID → the channel they chose (通知走…)
	keyBindCode  = "bindcode:"       // Ephemeral: code → staff ID
	keyBindTries = "bindtries:"      // Ephemeral counter: address → tries
	keyBindAll   = "bindtries-all"   // Ephemeral counter: tries town-wide (bindcode.go)
	keyBindFails = "bindfails-all"   // Ephemeral counter: wrong codes town-wide
	keyLastCase  = "lastcase-staff:" // Ephemeral: staff ID → case number last pushed
)

// bindingsNS names the namespace of ch's bindings, address ID → staff ID.
func bindingsNS(ch Channel) string {
	if ch == ChannelWeChat {
		return nsBindings
	}
	return nsBindings + "-" + string(ch)
}

// addressNS names the namespace of ch's bound addresses, staff ID →
// address ID.
func addressNS(ch Channel) string { return nsAddressOf + string(ch) }

// Defaults of the Roster.
const (
	DefaultBindCodeTTL = 10 * time.Minute
	// LastCaseTTL is how long "the case last pushed to me" stands in for a
	// case number a leader leaves out.
	LastCaseTTL = 24 * time.Hour
	// maxBindTries bounds bind codes tried per address per bindTriesWindow.
	maxBindTries    = 5
	bindTriesWindow = time.Hour
)

// ErrBindLimit means too many wrong bind codes were tried.
var ErrBindLimit = errors.New("too many bind attempts")

// Roster links staff to their addresses on each channel (their WeChat,
// their WeCom) and keeps their leave. Staff given an address in the
// directory are bound already; others bind with a short-lived code (绑定
// CODE) sent from the channel. Bindings and leave are durable records;
// codes and each member's last pushed case are ephemeral. A nil *Roster
// knows only the directory.
type Roster struct {
	Town    TownSource
	Records Records
	Keys    Ephemeral
	// Channels are the channels that carry notices, in the order a
	// member who prefers none is tried; nil is WeChat alone.
	Channels []Channel
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

// StaffAt returns the enabled staff member reached at a, or nil: the
// directory first, then the bindings.
func (r *Roster) StaffAt(ctx context.Context, a Address) (*Staff, error) {
	if r == nil || a.ID == "" {
		return nil, nil
	}
	town := r.Town.Town()
	s := town.StaffAt(a)
	if s == nil {
		// The whole (small) namespace, which stores keep at hand: most
		// senders are residents, and asking for their binding by name
		// would cost a round trip per message.
		bindings, err := r.Records.RecordsIn(ctx, bindingsNS(a.Channel))
		if err != nil {
			return nil, fmt.Errorf("roster: binding: %w", err)
		}
		id, ok := bindings[a.ID]
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

// StaffFrom is StaffAt for the sender of a Message (Address.String).
func (r *Roster) StaffFrom(ctx context.Context, from string) (*Staff, error) {
	return r.StaffAt(ctx, ParseAddress(from))
}

// Address returns staff id's address on ch: the directory's, or the bound
// one; "" when there is none.
func (r *Roster) Address(ctx context.Context, id string, ch Channel) (string, error) {
	var s *Staff
	if r != nil {
		s = r.Town.Town().StaffMember(id)
	}
	if s == nil || s.Disabled {
		return "", nil
	}
	if a := s.Address(ch); a != "" {
		return a, nil
	}
	v, ok, err := r.Records.Record(ctx, addressNS(ch), id)
	if err != nil {
		return "", fmt.Errorf("roster: %s of %s: %w", ch, id, err)
	}
	if !ok {
		return "", nil
	}
	return string(v), nil
}

// Addresses lists where staff id is reached, in the order to try them: the
// channel they prefer, then the Roster's Channels in order.
func (r *Roster) Addresses(ctx context.Context, id string) ([]Address, error) {
	if r == nil {
		return nil, nil
	}
	s := r.Town.Town().StaffMember(id)
	if s == nil || s.Disabled {
		return nil, nil
	}
	order := r.Channels
	if len(order) == 0 {
		order = []Channel{ChannelWeChat}
	}
	prefers, err := r.Prefers(ctx, id)
	if err != nil {
		return nil, err
	}
	if prefers != "" && slices.Contains(order, prefers) {
		order = append([]Channel{prefers}, slices.DeleteFunc(slices.Clone(order), func(c Channel) bool { return c == prefers })...)
	}
	var out []Address
	for _, ch := range order {
		a, err := r.Address(ctx, id, ch)
		if err != nil {
			return nil, err
		}
		if a != "" {
			out = append(out, Address{Channel: ch, ID: a})
		}
	}
	return out, nil
}

// Prefers returns the channel staff id is tried on first: the one they
// chose (SetPrefers), else the directory's prefers; "" leaves the order to
// Channels.
func (r *Roster) Prefers(ctx context.Context, id string) (Channel, error) {
	if r == nil {
		return "", nil
	}
	v, ok, err := r.Records.Record(ctx, nsPrefers, id)
	if err != nil {
		return "", fmt.Errorf("roster: channel of %s: %w", id, err)
	}
	if ok {
		return Channel(v), nil
	}
	if s := r.Town.Town().StaffMember(id); s != nil {
		return s.Prefers, nil
	}
	return "", nil
}

// SetPrefers records that staff id wants notices on ch first (通知走企业微信,
// 通知走微信, or the console); the other channel stays their fallback. ch
// must run here (Channels) and the member must have an address on it:
// ErrInvalid otherwise, ErrNotFound for no such (enabled) member.
func (r *Roster) SetPrefers(ctx context.Context, id string, ch Channel) error {
	s := r.Town.Town().StaffMember(id)
	if s == nil || s.Disabled {
		return fmt.Errorf("channel of %q: %w", id, ErrNotFound)
	}
	order := r.Channels
	if len(order) == 0 {
		order = []Channel{ChannelWeChat}
	}
	if !slices.Contains(order, ch) {
		return fmt.Errorf("channel of %s: %q does not run here: %w", id, ch, ErrInvalid)
	}
	a, err := r.Address(ctx, id, ch)
	if err != nil {
		return err
	}
	if a == "" {
		return fmt.Errorf("channel of %s: no %s address: %w", id, ch, ErrInvalid)
	}
	if err := r.Records.PutRecord(ctx, nsPrefers, id, []byte(ch)); err != nil {
		return fmt.Errorf("roster: set channel of %s: %w", id, err)
	}
	return nil
}

// IssueBindCode returns a new code (bindcode.go) that binds the address
// that sends it, on any channel, to staff id, valid for CodeTTL.
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

// Bind redeems code for the sender from (a Message's From: an address,
// Address.String). ErrInvalid: no such code (or expired);
// ErrConflict: the address is already another staff member's, or the
// directory gives the member another address on a's channel; ErrBindLimit:
// too many codes tried lately, from this address or by the whole town.
// Every try is counted before the code is looked up, so tries sent at once
// cannot outrun the count.
func (r *Roster) Bind(ctx context.Context, from, code string) (*Staff, error) {
	a := ParseAddress(from)
	code, wellFormed := normalBindCode(code)
	if !wellFormed || a.ID == "" {
		// Not a code at all: nothing is looked up, so nothing is guessed.
		return nil, fmt.Errorf("bind: code shape: %w", ErrInvalid)
	}
	if err := r.chargeBindTry(ctx, a.String()); err != nil {
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
	if other, err := r.StaffAt(ctx, a); err != nil {
		return nil, err
	} else if other != nil && other.ID != s.ID {
		return nil, fmt.Errorf("bind: address belongs to %s: %w", other.ID, ErrConflict)
	}
	if mine := s.Address(a.Channel); mine != "" && mine != a.ID {
		return nil, fmt.Errorf("bind: %s has a configured %s address: %w", s.ID, a.Channel, ErrConflict)
	}
	if err := r.Keys.Delete(ctx, keyBindCode+code); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	if old, ok, err := r.Records.Record(ctx, addressNS(a.Channel), s.ID); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	} else if ok && string(old) != a.ID {
		if err := r.Records.DeleteRecord(ctx, bindingsNS(a.Channel), string(old)); err != nil {
			return nil, fmt.Errorf("bind: %w", err)
		}
	}
	if err := r.Records.PutRecord(ctx, bindingsNS(a.Channel), a.ID, []byte(s.ID)); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	if err := r.Records.PutRecord(ctx, addressNS(a.Channel), s.ID, []byte(a.ID)); err != nil {
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

// SetLastCase remembers the case last pushed to staff id, on whichever
// channel: a command without a number, from any of their channels, is
// about it.
func (r *Roster) SetLastCase(ctx context.Context, id, number string) error {
	if r == nil {
		return nil
	}
	if err := r.Keys.Set(ctx, keyLastCase+id, []byte(number), LastCaseTTL); err != nil {
		return fmt.Errorf("roster: last case: %w", err)
	}
	return nil
}

// LastCase returns the case last pushed to staff id, or "".
func (r *Roster) LastCase(ctx context.Context, id string) (string, error) {
	v, _, err := r.Keys.Get(ctx, keyLastCase+id)
	if err != nil {
		return "", fmt.Errorf("roster: last case: %w", err)
	}
	return string(v), nil
}
