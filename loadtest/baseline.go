package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount"
	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// BaselineConfig configures the peer bot.
type BaselineConfig struct {
	AppID, AppSecret, Token string
	AESKey                  string // accepted in safe mode when set; plain requests work too
}

// Baseline is what a team would write with github.com/silenceper/wechat/v2
// and nothing else: the SDK's message server verifies, decrypts and answers,
// and the handler echoes text back. It has no store, no dedupe and no
// dialogs; it is the floor gridbot's figures are measured against. (It uses
// officialaccount.NewOfficialAccount rather than the SDK's root package,
// which turns on process-wide debug logging, and a locked map as the SDK
// cache, because the SDK's own memory cache crashes under concurrent use.)
func Baseline(cfg BaselineConfig) http.Handler {
	oa := officialaccount.NewOfficialAccount(&offconfig.Config{AppID: cfg.AppID, AppSecret: cfg.AppSecret,
		Token: cfg.Token, EncodingAESKey: cfg.AESKey, Cache: &lockedCache{m: map[string]cacheEntry{}}})
	mux := http.NewServeMux()
	mux.HandleFunc("/wechat", func(w http.ResponseWriter, r *http.Request) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(msg *message.MixMessage) *message.Reply {
			text := string(msg.Content)
			if msg.MsgType != message.MsgTypeText || text == "" {
				text = "收到"
			}
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(text)}
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_ = srv.Send()
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

// ServeBaseline serves Baseline on addr (loopback only) until ctx ends.
func ServeBaseline(ctx context.Context, addr string, cfg BaselineConfig) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || (host != "127.0.0.1" && host != "::1") {
		return fmt.Errorf("baseline: %q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	srv := &http.Server{Handler: Baseline(cfg), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("baseline: %w", err)
	}
	return nil
}

// lockedCache is the SDK cache a careful team would write: a map behind a
// mutex, with expiry.
type lockedCache struct {
	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	v   any
	exp time.Time
}

func (c *lockedCache) Get(key string) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || (!e.exp.IsZero() && time.Now().After(e.exp)) {
		return nil
	}
	return e.v
}

func (c *lockedCache) Set(key string, val any, timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := cacheEntry{v: val}
	if timeout > 0 {
		e.exp = time.Now().Add(timeout)
	}
	c.m[key] = e
	return nil
}

func (c *lockedCache) IsExist(key string) bool { return c.Get(key) != nil }

func (c *lockedCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}
