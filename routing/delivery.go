package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"gridbot/core"
)

// Delivering notices: each push once per event and recipient, through the
// Notifier, its outcome recorded on the case. Which notices an event calls
// for is decided in notices.go.

// notify pushes what an event calls for to everyone it concerns (过程通报),
// each push once per event and recipient, each recorded on the case.
func (h *Handlers) notify(ctx context.Context, ev core.Event) error {
	if ev.Kind == core.EventSubmitted && h.Groups != nil {
		return h.toGroups(ctx, ev)
	}
	if ev.Kind == core.EventDelivered || ev.Kind == core.EventUndeliverable || ev.Kind == core.EventSubmitted {
		return nil
	}
	c, err := h.Ledger.Case(ctx, ev.Case)
	if err != nil {
		return fmt.Errorf("notify %d: %w", ev.Seq, err)
	}
	outs := noticesFor(h.Town.Town(), ev, &c)
	for _, o := range outs {
		if err := h.push(ctx, ev, o.to, o.notice); err != nil {
			return err
		}
	}
	return nil
}

// toGroups hands a new case to the team groups (WeCom group robots) once,
// however often its event is delivered.
func (h *Handlers) toGroups(ctx context.Context, ev core.Event) error {
	c, err := h.Ledger.Case(ctx, ev.Case)
	if err != nil {
		return fmt.Errorf("group post %d: %w", ev.Seq, err)
	}
	won, err := h.Marks.SetNX(ctx, "group:"+ev.ID(), []byte("1"), pushMarkTTL)
	if err != nil {
		return fmt.Errorf("group mark: %w", err)
	}
	if !won {
		return nil
	}
	if err := h.Groups.NewCase(ctx, c); err != nil {
		// Not taken: free the mark so the retry hands it over again.
		_ = h.Marks.Delete(context.WithoutCancel(ctx), "group:"+ev.ID())
		return err
	}
	return nil
}

// addressesOf lists where recipient to is reached, in the order to try
// them, keeping only channels that run here. A resident (or one who joined)
// has the one address the case knows (resident); staff have theirs by
// preference (core.Roster.Addresses).
func (h *Handlers) addressesOf(ctx context.Context, to, resident string) ([]core.Address, error) {
	var all []core.Address
	switch {
	case to == core.ActorResident || strings.HasPrefix(to, core.ActorJoinedPrefix):
		if resident != "" {
			all = []core.Address{core.ParseAddress(resident)}
		}
	case h.Roster != nil:
		var err error
		if all, err = h.Roster.Addresses(ctx, to); err != nil {
			return nil, err
		}
	default:
		if s := h.Town.Town().StaffMember(to); s != nil && !s.Disabled && s.Address(core.ChannelWeChat) != "" {
			all = []core.Address{{Channel: core.ChannelWeChat, ID: s.Address(core.ChannelWeChat)}}
		}
	}
	out := all[:0]
	for _, a := range all {
		if a.ID != "" && h.notifierOf(a.Channel) != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// notifierOf returns the adapter of channel ch, or nil when it does not
// run here.
func (h *Handlers) notifierOf(ch core.Channel) core.Notifier {
	if n := h.Channels[ch]; n != nil {
		return n
	}
	if ch == core.ChannelWeChat {
		return h.Notifier
	}
	return nil
}

// pushMarkTTL is how long a done push is remembered: longer than any
// redelivery of its event could take.
const pushMarkTTL = 7 * 24 * time.Hour

// push sends n to recipient to once per event and records the outcome on
// the case. A permanent refusal on every channel, or a recipient without
// any, is recorded and not retried; anything else is returned for the
// router to retry. A push a channel took whose recording failed is not sent
// again on the retry (see pending).
func (h *Handlers) push(ctx context.Context, ev core.Event, to string, n core.Notice) error {
	mark := "push:" + ev.ID() + ":" + to
	if _, done, err := h.Marks.Get(ctx, mark); err != nil {
		return fmt.Errorf("push mark: %w", err)
	} else if done {
		return nil
	}
	p, ok := h.pending.take(mark)
	if !ok {
		ds, err := h.deliver(ctx, ev, to, n)
		if err != nil {
			return err
		}
		p = pendingPush{Deliveries: ds}
	}
	for p.recorded < len(p.Deliveries) {
		if err := h.Ledger.RecordDelivery(ctx, p.Deliveries[p.recorded]); err != nil {
			h.pending.keep(mark, p)
			return err
		}
		p.recorded++
	}
	if err := h.Marks.Set(ctx, mark, []byte(strconv.FormatBool(p.delivered())), pushMarkTTL); err != nil {
		h.pending.keep(mark, p)
		return fmt.Errorf("push mark: %w", err)
	}
	return nil
}

// deliver sends n to recipient to on their channels, in order, until one
// takes it, and says what became of each try; the error is for failures
// worth retrying when no channel took it. A push to staff about a case
// makes it their "last case", the one a command without a number is about,
// whichever channel the command comes from.
func (h *Handlers) deliver(ctx context.Context, ev core.Event, to string, n core.Notice) ([]core.Delivery, error) {
	isStaff := to != core.ActorResident && !strings.HasPrefix(to, core.ActorJoinedPrefix)
	addrs, err := h.addressesOf(ctx, to, n.To)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		h.Log.Warn("recipient has no channel to push to", "case", ev.Case, "to", to)
		h.Observe.Push("", PushNoWeChat, 0)
		return []core.Delivery{{About: ev, To: to, Reason: core.ReasonNoWeChat}}, nil
	}
	if !isStaff {
		n = h.inResidentScript(ctx, n)
	}
	if isStaff && n.Case != "" {
		// Before the push, not after: the leader may answer it at once.
		if err := h.Roster.SetLastCase(ctx, to, n.Case); err != nil {
			h.Log.Warn("last case not remembered", "case", ev.Case, "err", err)
		}
	}
	var tried []core.Delivery
	var retry error
	for _, a := range addrs {
		d := core.Delivery{About: ev, To: to}
		n.To, n.Key = a.ID, pushKey(ev, to)
		channel, err := h.notifierOf(a.Channel).Notify(ctx, n)
		pe, isPush := errors.AsType[*core.PushError](err)
		switch {
		case err == nil:
			h.Observe.Push(channel, PushDelivered, 0)
			d.Channel = channel
			return append(tried, d), nil
		case isPush && pe.Permanent():
			h.Log.Warn("push refused", "case", ev.Case, "seq", ev.Seq, "channel", a.Channel, "errcode", pe.Code)
			h.Observe.Push(channel, PushRefused, pe.Code)
			d.Channel, d.ErrCode, d.Err = channel, pe.Code, err
			if d.Channel == "" {
				d.Channel = string(a.Channel)
			}
			tried = append(tried, d)
		default:
			code := 0
			if isPush {
				code = pe.Code
			}
			h.Observe.Push(channel, PushFailed, code)
			if len(addrs) > 1 {
				h.Log.Warn("push failed, trying the next channel", "case", ev.Case, "seq", ev.Seq, "channel", a.Channel, "errcode", code)
			}
			retry = fmt.Errorf("push for event %d on %s: %w", ev.Seq, a.Channel, err)
		}
	}
	if retry != nil {
		return nil, retry
	}
	return tried, nil
}

// pushKey is a push's client_msg_id: the same for every retry of it, and
// unlike any other push. WeChat sends a template message once per id, so a
// key made of the sequence number alone collided with another store's
// (another deployment's, or a fresh one's) pushes, and those were silently
// not sent; the case and the event's time make it unique.
func pushKey(ev core.Event, to string) string {
	sum := sha256.Sum256([]byte(ev.Case + "\x00" + ev.ID() + "\x00" + strconv.FormatInt(ev.At.UnixNano(), 10) + "\x00" + to))
	return "gb-" + hex.EncodeToString(sum[:16])
}

// pendingPush is a push a channel took, or every channel refused for good,
// whose records or done mark could not yet be written.
type pendingPush struct {
	Deliveries []core.Delivery // each try, in order
	recorded   int             // how many of them are on the case
	since      time.Time
}

// delivered says whether a channel took the push.
func (p pendingPush) delivered() bool {
	if len(p.Deliveries) == 0 {
		return false
	}
	last := p.Deliveries[len(p.Deliveries)-1]
	return last.Err == nil && last.Reason == ""
}

// pendingPushes remembers, per push mark, pushes whose recording failed
// (Valkey restarting, say), so the router's retry records them instead of
// sending again: a customer-service message has no idempotency key, and a
// second send reaches the person twice. Only a crash in that short gap can
// still send twice. The zero value is ready.
type pendingPushes struct {
	mu sync.Mutex
	m  map[string]pendingPush
}

// pendingFor bounds how long a pending push is remembered: a retry comes
// within seconds, a redelivery after the router gave up within minutes.
const pendingFor = time.Hour

func (p *pendingPushes) keep(mark string, push pendingPush) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.m == nil {
		p.m = make(map[string]pendingPush)
	}
	for k, old := range p.m {
		if now.Sub(old.since) > pendingFor {
			delete(p.m, k)
		}
	}
	if push.since.IsZero() {
		push.since = now
	}
	p.m[mark] = push
}

func (p *pendingPushes) take(mark string) (pendingPush, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	push, ok := p.m[mark]
	delete(p.m, mark)
	return push, ok
}

// poisoned logs what failed after its retries; a push that kept failing is
// recorded on its case as undeliverable, so staff see it.
func (h *Handlers) poisoned(msg *message.Message) error {
	h.Log.Error("event handling failed after retries",
		"handler", msg.Metadata.Get(middleware.PoisonedHandlerKey),
		"reason", msg.Metadata.Get(middleware.ReasonForPoisonedKey),
		"case", msg.Metadata.Get(metaCase), "kind", msg.Metadata.Get(metaKind), "msg", msg.UUID)
	if msg.Metadata.Get(middleware.PoisonedHandlerKey) != "notify" {
		return nil
	}
	ev, err := DecodeEvent(msg)
	if err != nil || h.open(&ev) != nil {
		return nil
	}
	if err := h.Ledger.RecordDelivery(msg.Context(), core.Delivery{About: ev, Reason: core.ReasonGaveUp}); err != nil {
		return fmt.Errorf("record gave-up push: %w", err)
	}
	return nil
}

// inResidentScript writes a notice to a resident (n.To) in the script they
// write: traditional characters for one remembered as writing them
// (core.ScriptKey), as the dialogs answer them. Title, text and the values a
// template shows are converted; a failure to read the choice sends the
// notice in simplified, which every reader can read.
func (h *Handlers) inResidentScript(ctx context.Context, n core.Notice) core.Notice {
	if h.Script == nil || h.Marks == nil || n.To == "" {
		return n
	}
	raw, ok, err := h.Marks.Get(ctx, core.ScriptKey(n.To))
	if err != nil {
		h.Log.Warn("resident's script not read; notice in simplified", "err", err)
		return n
	}
	if !ok || string(raw) != core.ScriptTraditional {
		return n
	}
	n.Title, n.Text = h.Script.Traditional(n.Title), h.Script.Traditional(n.Text)
	if len(n.Values) > 0 {
		values := make(map[string]string, len(n.Values))
		for k, v := range n.Values {
			values[k] = h.Script.Traditional(v)
		}
		n.Values = values
	}
	return n
}
