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

// staffOpenID finds the WeChat of staff id; "" when they have none.
func (h *Handlers) staffOpenID(ctx context.Context, id string) (string, error) {
	if h.Roster != nil {
		return h.Roster.OpenID(ctx, id)
	}
	if s := h.Town.Town().StaffMember(id); s != nil && !s.Disabled {
		return s.OpenID, nil
	}
	return "", nil
}

// pushMarkTTL is how long a done push is remembered: longer than any
// redelivery of its event could take.
const pushMarkTTL = 7 * 24 * time.Hour

// push sends n to recipient to once per event and records the outcome on
// the case. A permanent WeChat refusal, or a recipient without WeChat, is
// recorded and not retried; anything else is returned for the router to
// retry. A push WeChat took whose recording failed is not sent again on the
// retry (see pending).
func (h *Handlers) push(ctx context.Context, ev core.Event, to string, n core.Notice) error {
	mark := "push:" + ev.ID() + ":" + to
	if _, done, err := h.Marks.Get(ctx, mark); err != nil {
		return fmt.Errorf("push mark: %w", err)
	} else if done {
		return nil
	}
	p, ok := h.pending.take(mark)
	if !ok {
		d, err := h.deliver(ctx, ev, to, n)
		if err != nil {
			return err
		}
		p = pendingPush{Delivery: d}
	}
	if !p.recorded {
		if err := h.Ledger.RecordDelivery(ctx, p.Delivery); err != nil {
			h.pending.keep(mark, p)
			return err
		}
		p.recorded = true
	}
	if err := h.Marks.Set(ctx, mark, []byte(strconv.FormatBool(p.Err == nil && p.Reason == "")), pushMarkTTL); err != nil {
		h.pending.keep(mark, p)
		return fmt.Errorf("push mark: %w", err)
	}
	return nil
}

// deliver sends n to recipient to and says what became of it; the error is
// for failures worth retrying. A push to staff about a case makes it their
// "last case", the one a command without a number is about.
func (h *Handlers) deliver(ctx context.Context, ev core.Event, to string, n core.Notice) (core.Delivery, error) {
	d := core.Delivery{About: ev, To: to}
	openid := n.To
	isStaff := to != core.ActorResident && !strings.HasPrefix(to, core.ActorJoinedPrefix)
	if isStaff {
		var err error
		if openid, err = h.staffOpenID(ctx, to); err != nil {
			return d, err
		}
	}
	if !isStaff && !core.FromWeChat(openid) {
		openid = "" // a resident who came through another channel
	}
	if openid == "" {
		h.Log.Warn("recipient has no WeChat to push to", "case", ev.Case, "to", to)
		d.Reason = core.ReasonNoWeChat
		h.Observe.Push("", PushNoWeChat, 0)
		return d, nil
	}
	if isStaff && n.Case != "" {
		// Before the push, not after: the leader may answer it at once.
		if err := h.Roster.SetLastCase(ctx, openid, n.Case); err != nil {
			h.Log.Warn("last case not remembered", "case", ev.Case, "err", err)
		}
	}
	n.To, n.Key = openid, pushKey(ev, to)
	channel, err := h.Notifier.Notify(ctx, n)
	pe, isPush := errors.AsType[*core.PushError](err)
	switch {
	case err == nil:
		h.Observe.Push(channel, PushDelivered, 0)
	case isPush && pe.Permanent():
		h.Log.Warn("push refused", "case", ev.Case, "seq", ev.Seq, "errcode", pe.Code)
		d.ErrCode = pe.Code
		h.Observe.Push(channel, PushRefused, pe.Code)
	default:
		code := 0
		if isPush {
			code = pe.Code
		}
		h.Observe.Push(channel, PushFailed, code)
		return d, fmt.Errorf("push for event %d: %w", ev.Seq, err)
	}
	d.Channel, d.Err = channel, err
	return d, nil
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

// pendingPush is a push WeChat took or refused for good whose record or
// done mark could not yet be written.
type pendingPush struct {
	core.Delivery
	recorded bool // the Delivery is on the case; only the mark is missing
	since    time.Time
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
	if err != nil {
		return nil
	}
	if err := h.Ledger.RecordDelivery(msg.Context(), core.Delivery{About: ev, Reason: core.ReasonGaveUp}); err != nil {
		return fmt.Errorf("record gave-up push: %w", err)
	}
	return nil
}
