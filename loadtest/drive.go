package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gridbot/wechatsim"
)

// Endpoint is one bot's callback as WeChat's servers see it: a simulator
// that signs (and in safe mode encrypts) what residents send to URL.
type Endpoint struct {
	Name string
	Sim  *wechatsim.Sim
	// ids numbers messages. WeChat's MsgIds are unique across the account,
	// so every endpoint of a run draws from one counter (each simulator's
	// own would overlap, and a bot would rightly take a message from one
	// resident for a retry of another's).
	ids *atomic.Int64
}

// MsgIDs is a run's MsgId counter, shared by its endpoints.
func MsgIDs() *atomic.Int64 {
	ids := &atomic.Int64{}
	ids.Store(time.Now().UnixNano())
	return ids
}

// WeChatAccount is the account's credentials, shared by the bot under test,
// the baseline and the simulators.
type WeChatAccount struct {
	AppID, AppSecret, Token, AESKey string
}

// NewEndpoint returns an endpoint posting to callbackURL through client.
func NewEndpoint(name, callbackURL string, acct WeChatAccount, safe bool, client *http.Client, ids *atomic.Int64) *Endpoint {
	key := ""
	if safe {
		key = acct.AESKey
	}
	return &Endpoint{Name: name, ids: ids, Sim: wechatsim.New(wechatsim.Config{Token: acct.Token, AppID: acct.AppID,
		AppSecret: acct.AppSecret, AESKey: key, CallbackURL: callbackURL, Client: client})}
}

// LoadClient is the HTTP client WeChat's side uses: WeChat's 5-second limit,
// and enough idle connections that workers do not churn ports.
func LoadClient(conns int) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConns:        conns * 4,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}}
}

// Step is one message of a scripted conversation and what its reply must
// contain.
type Step struct {
	Text     string // text to send; empty with Location set
	Location bool   // send the location inside grid L10 instead
	Want     string // the reply must contain this
}

// IntakeScript is the resident's intake, from 报事 to a filed case in grid
// L10 (石桥村): category, description, location, phone skipped, 确认. It is
// the one place to change when the dialog's wording changes.
func IntakeScript(description string) []Step {
	return []Step{
		{Text: "报事", Want: "道路照明"},
		{Text: "2", Want: "描述"},
		{Text: description, Want: "位置"},
		{Location: true, Want: "石桥"},
		{Text: "跳过", Want: "确认"},
		{Text: "确认", Want: "编号："},
	}
}

// SessionScript is the intake up to its summary, then 取消: every step
// reads and writes the resident's session, and no case is filed.
func SessionScript(description string) []Step {
	steps := IntakeScript(description)
	return append(steps[:len(steps)-1], Step{Text: "取消"})
}

// CaseNumber finds the case number in a reply.
var CaseNumber = regexp.MustCompile(`编号：([A-Z]+\d{8,})`)

// Tally is what one phase of load measured at the generator.
type Tally struct {
	Messages atomic.Int64
	Cases    atomic.Int64
	Latency  Latencies // every passive reply
	Confirm  Latencies // the 确认 step alone
	Errors   Errors
}

// send posts one step and checks the reply.
func send(ctx context.Context, ep *Endpoint, openid string, st Step, msgID int64, tally *Tally) (string, bool) {
	if msgID == 0 {
		msgID = ep.ids.Add(1)
	}
	m := wechatsim.OutgoingMessage{MsgType: "text", Content: st.Text, MsgID: msgID}
	if st.Location {
		m = wechatsim.OutgoingMessage{MsgType: "location", Lat: 22.355, Lng: 112.545, Scale: 15, Label: "石桥村口", MsgID: msgID}
	}
	start := time.Now()
	res, err := ep.Sim.Post(ctx, openid, m)
	took := time.Since(start)
	if ctx.Err() != nil {
		return "", false // the phase ended under this request: not a failure
	}
	switch {
	case err != nil:
		tally.Errors.Add(ep.Name+": transport", err.Error())
		return "", false
	case res.Status != http.StatusOK:
		tally.Errors.Add(fmt.Sprintf("%s: HTTP %d", ep.Name, res.Status), string(res.Body))
		return "", false
	}
	tally.Messages.Add(1)
	tally.Latency.Add(took)
	if st.Text == "确认" {
		tally.Confirm.Add(took)
	}
	if !strings.Contains(res.Reply, st.Want) {
		kind := "unexpected reply"
		if strings.Contains(res.Reply, "系统繁忙") {
			kind = "busy reply"
		}
		tally.Errors.Add(ep.Name+": "+kind, fmt.Sprintf("to %q: %q", st.Text, res.Reply))
		return res.Reply, false
	}
	return res.Reply, true
}

// Idle runs workers residents, each sending text to one of eps in turn as
// fast as the replies come, until d has passed. want is what every reply
// must contain ("" takes any non-empty reply; the baseline echoes).
func Idle(ctx context.Context, eps []*Endpoint, workers int, d time.Duration, runID, text, want string) *Tally {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tally := &Tally{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			openid := fmt.Sprintf("oload-%s-idle-%d", runID, w)
			for i := 0; ctx.Err() == nil; i++ {
				send(ctx, eps[(w+i)%len(eps)], openid, Step{Text: text, Want: want}, 0, tally)
			}
		})
	}
	wg.Wait()
	return tally
}

// Dialogs runs workers residents filing cases one after another through
// the intake until d has passed, each step going to the next of eps (so a
// dialog hops between instances). Every number filed is passed to filed.
func Dialogs(ctx context.Context, eps []*Endpoint, workers int, d time.Duration, runID string, script func(string) []Step, filed func(openid, number string)) *Tally {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tally := &Tally{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				openid := fmt.Sprintf("oload-%s-res-%d-%d", runID, w, n)
				for i, st := range script(fmt.Sprintf("路灯不亮 %s-%d-%d", runID, w, n)) {
					reply, ok := send(ctx, eps[(w+n+i)%len(eps)], openid, st, 0, tally)
					if !ok {
						if ctx.Err() == nil {
							// Leave the dialog so the next resident starts clean.
							send(ctx, eps[0], openid, Step{Text: "取消"}, 0, &Tally{})
						}
						break
					}
					if m := CaseNumber.FindStringSubmatch(reply); m != nil && st.Text == "确认" {
						tally.Cases.Add(1)
						if filed != nil {
							filed(openid, m[1])
						}
					}
				}
			}
		})
	}
	wg.Wait()
	return tally
}
