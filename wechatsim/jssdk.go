package wechatsim

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The JS-SDK, as WeChat plays it for a page opened inside the phone. The
// account's server asks /cgi-bin/ticket/getticket for the jsapi_ticket and
// signs wx.config with it; the page loads the JS-SDK, which in the phone is
// the simulator's own stand-in (page/jweixin.js, served where a page asks
// for jweixin-1.6.0.js): its wx.config hands the configuration to the phone
// page (postMessage), which asks /sim/jsconfig to check it as WeChat does —
// the AppID, the page's domain among the account's JS-safe domains, and the
// signature over a ticket the simulator issued and still holds valid. Only
// a page whose configuration passed, and asked for the open tag
// wx-open-subscribe, may show the subscribe button; a tap on it grants 订阅
// 通知 and tells the account with PopupScene 1 (a page), where the phone's
// own button plays a subscribe component in an article (PopupScene 2).

// ticketLife is how long a jsapi_ticket lives, as at WeChat.
const ticketLife = 7200 * time.Second

// verifiedLife is how long a page's checked configuration lets its open
// tags work: the page is reloaded (and configured again) long before.
const verifiedLife = 2 * time.Hour

// verifiedPage is a page whose wx.config passed.
type verifiedPage struct {
	tags    []string
	expires time.Time
}

// TicketRequests counts the jsapi_ticket requests the account made.
func (s *Sim) TicketRequests() int64 { return s.ticketRequests.Load() }

func (s *Sim) serveGetTicket(w http.ResponseWriter, r *http.Request) {
	s.ticketRequests.Add(1)
	if !s.checkToken(w, r) {
		return
	}
	if r.URL.Query().Get("type") != "jsapi" {
		apiError(w, 40097, "invalid args")
		return
	}
	s.mu.Lock()
	now := s.cfg.Now()
	exp, ok := s.tickets[s.ticket]
	if !ok || !now.Before(exp) {
		// WeChat hands out the same ticket until it expires.
		s.ticket = randomHex(43)
		exp = now.Add(ticketLife)
		s.tickets[s.ticket] = exp
	}
	for t, e := range s.tickets {
		if !now.Before(e) {
			delete(s.tickets, t)
		}
	}
	ticket := s.ticket
	s.mu.Unlock()
	apiAnswer(w, map[string]any{"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": int64(exp.Sub(now) / time.Second)})
}

// jsSignature is the signature WeChat expects (JS-SDK 附录1).
func jsSignature(ticket, nonce, timestamp, page string) string {
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + nonce + "&timestamp=" + timestamp + "&url=" + page))
	return hex.EncodeToString(sum[:])
}

// jsConfigRequest is what the phone page posts to /sim/jsconfig: the page's
// wx.config and where the page is.
type jsConfigRequest struct {
	OpenID      string   `json:"openid"`
	URL         string   `json:"url"`
	AppID       string   `json:"appId"`
	Timestamp   string   `json:"timestamp"`
	NonceStr    string   `json:"nonceStr"`
	Signature   string   `json:"signature"`
	OpenTagList []string `json:"openTagList"`
}

// CheckJSConfig checks a page's wx.config as WeChat does and remembers the
// page's open tags for openid; the answer is WeChat's errMsg ("config:ok"
// or why not).
func (s *Sim) CheckJSConfig(openid, pageURL, appID, timestamp, nonce, signature string, openTags []string) string {
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	u, err := url.Parse(pageURL)
	switch {
	case appID != s.cfg.AppID:
		return "config:fail, invalid appid"
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "config:invalid url domain"
	case len(s.cfg.JSDomains) > 0 && !slices.Contains(s.cfg.JSDomains, u.Host):
		// The page's domain must be a JS-safe domain of the account.
		return "config:invalid url domain"
	case nonce == "" || signature == "":
		return "config:invalid signature"
	}
	if _, err := strconv.ParseInt(timestamp, 10, 64); err != nil {
		return "config:invalid signature"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	good := false
	for t, exp := range s.tickets {
		if now.Before(exp) && jsSignature(t, nonce, timestamp, pageURL) == strings.ToLower(signature) {
			good = true
		}
	}
	if !good {
		return "config:invalid signature"
	}
	tags := slices.DeleteFunc(slices.Clone(openTags), func(t string) bool { return t != "wx-open-subscribe" })
	s.verified[openid+" "+pageURL] = verifiedPage{tags: tags, expires: now.Add(verifiedLife)}
	for k, v := range s.verified {
		if !now.Before(v.expires) {
			delete(s.verified, k)
		}
	}
	return "config:ok"
}

// pageMayAsk reports whether the page at pageURL, open in openid's phone,
// passed wx.config with the open tag wx-open-subscribe. Callers hold s.mu.
func (s *Sim) pageMayAsk(openid, pageURL string) bool {
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	v, ok := s.verified[openid+" "+pageURL]
	return ok && s.cfg.Now().Before(v.expires) && slices.Contains(v.tags, "wx-open-subscribe")
}

func (s *Sim) serveJSConfig(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "需要 application/json"})
		return
	}
	var req jsConfigRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&req); err != nil || strings.TrimSpace(req.OpenID) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请求格式不对"})
		return
	}
	msg := s.CheckJSConfig(strings.TrimSpace(req.OpenID), req.URL, req.AppID, req.Timestamp, req.NonceStr, req.Signature, req.OpenTagList)
	writeJSON(w, http.StatusOK, map[string]any{"ok": msg == "config:ok", "errMsg": msg})
}

// serveJSSDK serves the stand-in for jweixin-1.6.0.js.
func (s *Sim) serveJSSDK(w http.ResponseWriter, _ *http.Request) {
	body, err := pageFiles.ReadFile("page/jweixin.js")
	if err != nil {
		http.Error(w, "missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write(body)
}
