package wechatsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// tokenLife is how long an access token lives, as at WeChat.
const tokenLife = 7200 * time.Second

// apiAnswer writes a WeChat API answer: always HTTP 200, the outcome in
// errcode.
func apiAnswer(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	apiAnswer(w, map[string]any{"errcode": code, "errmsg": msg})
}

func (s *Sim) serveStableToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		apiError(w, 47001, "data format error")
		return
	}
	s.issueToken(w, req.GrantType, req.AppID, req.Secret, req.ForceRefresh)
}

func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// /cgi-bin/token always makes a new token.
	s.issueToken(w, q.Get("grant_type"), q.Get("appid"), q.Get("secret"), true)
}

// issueToken answers a token request. Without force the current token is
// handed out again (stable_token); a forced refresh makes a new one and
// leaves the old one valid, as WeChat does for a grace period.
func (s *Sim) issueToken(w http.ResponseWriter, grant, appID, secret string, force bool) {
	s.tokenRequests.Add(1)
	switch {
	case grant != "client_credential":
		apiError(w, 40002, "invalid grant_type")
		return
	case appID != s.cfg.AppID:
		apiError(w, 40013, "invalid appid")
		return
	case secret != s.cfg.AppSecret:
		apiError(w, 40125, "invalid appsecret")
		return
	}
	s.mu.Lock()
	now := s.cfg.Now()
	exp, ok := s.tokens[s.current]
	if force || !ok || !now.Before(exp) {
		s.current = randomHex(32)
		exp = now.Add(tokenLife)
		s.tokens[s.current] = exp
	}
	token := s.current
	s.mu.Unlock()
	s.cfg.Log.Debug("wechatsim issued an access token", "forced", force)
	apiAnswer(w, map[string]any{"access_token": token, "expires_in": int64(exp.Sub(now) / time.Second)})
}

// checkToken answers 41001/40001/42001 and reports false when the request's
// access token is missing, unknown or expired.
func (s *Sim) checkToken(w http.ResponseWriter, r *http.Request) bool {
	tok := r.URL.Query().Get("access_token")
	if tok == "" {
		apiError(w, 41001, "access_token missing")
		return false
	}
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	now := s.cfg.Now()
	s.mu.Unlock()
	switch {
	case !ok:
		apiError(w, 40001, "invalid credential, access_token is invalid or not latest")
		return false
	case !now.Before(exp):
		apiError(w, 42001, "access_token expired")
		return false
	}
	return true
}

// takeFailure pops a queued failure for openid and api. Callers hold s.mu.
func (s *Sim) takeFailure(openid, api string) int {
	k := failKey{openid, api}
	q := s.failNext[k]
	if len(q) == 0 {
		return 0
	}
	code := q[0]
	if len(q) == 1 {
		delete(s.failNext, k)
	} else {
		s.failNext[k] = q[1:]
	}
	return code
}

// errmsgs are WeChat's texts for the codes tests usually ask for.
func errmsg(code int) string {
	switch code {
	case 45015:
		return "response out of time limit or subscription is canceled"
	case 45047:
		return "out of response count limit"
	case 43101:
		return "user refuse to accept the msg"
	case 43004:
		return "require subscribe"
	case 40001:
		return "invalid credential, access_token is invalid or not latest"
	case -1:
		return "system error"
	}
	return fmt.Sprintf("simulated error %d", code)
}

func (s *Sim) serveCustomSend(w http.ResponseWriter, r *http.Request) {
	if !s.checkToken(w, r) {
		return
	}
	var req struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		Image *struct {
			MediaID string `json:"media_id"`
		} `json:"image"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		apiError(w, 47001, "data format error")
		return
	}
	if req.ToUser == "" {
		apiError(w, 40003, "invalid openid")
		return
	}
	if !s.stall(r, req.ToUser) {
		return
	}
	text := "[" + req.MsgType + "]"
	switch {
	case req.MsgType == "text" && req.Text != nil && req.Text.Content != "":
		text = req.Text.Content
	case req.MsgType == "text":
		apiError(w, 44004, "empty content")
		return
	case req.MsgType == "image" && (req.Image == nil || req.Image.MediaID == ""):
		apiError(w, 40007, "invalid media_id")
		return
	case req.MsgType == "image":
		text = "[image " + req.Image.MediaID + "]"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.takeFailure(req.ToUser, "custom"); code != 0 {
		apiError(w, code, errmsg(code))
		return
	}
	if code := s.users[req.ToUser].spendCustom(s.cfg.Now()); code != 0 {
		apiError(w, code, errmsg(code))
		return
	}
	s.record(Push{To: req.ToUser, Channel: "custom", Text: text})
	if req.MsgType == "image" {
		// The phone shows the photo, never its media ID.
		c := s.chats[req.ToUser]
		c[len(c)-1].Text, c[len(c)-1].Image = "[图片]", mediaPath(req.Image.MediaID)
	}
	apiError(w, 0, "ok")
}

// templateSend is a template or 订阅通知 send as the bot posts it.
type templateSend struct {
	ToUser      string `json:"touser"`
	TemplateID  string `json:"template_id"`
	URL         string `json:"url"`  // template
	Page        string `json:"page"` // bizsend: the page 详情 opens
	ClientMsgID string `json:"client_msg_id"`
	Data        map[string]struct {
		Value string `json:"value"`
	} `json:"data"`
}

// readTemplateSend reads and checks a send against the account's
// templates ts; it answers the error itself and reports false.
func (s *Sim) readTemplateSend(w http.ResponseWriter, r *http.Request, ts []Template) (templateSend, Template, map[string]string, []PushField, bool) {
	var req templateSend
	if !s.checkToken(w, r) {
		return req, Template{}, nil, nil, false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		apiError(w, 47001, "data format error")
		return req, Template{}, nil, nil, false
	}
	t, ok := findTemplate(ts, req.TemplateID)
	switch {
	case req.ToUser == "":
		apiError(w, 40003, "invalid openid")
		return req, t, nil, nil, false
	case !ok:
		apiError(w, 40037, "invalid template_id")
		return req, t, nil, nil, false
	}
	data := make(map[string]string, len(req.Data))
	for k, v := range req.Data {
		data[k] = v.Value
	}
	fields, err := filled(t, data)
	if err != nil {
		apiError(w, 47003, err.Error())
		return req, t, nil, nil, false
	}
	return req, t, data, fields, true
}

func (s *Sim) serveTemplateSend(w http.ResponseWriter, r *http.Request) {
	req, t, data, fields, ok := s.readTemplateSend(w, r, s.cfg.Templates)
	if !ok || !s.stall(r, req.ToUser) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.takeFailure(req.ToUser, "template"); code != 0 {
		apiError(w, code, errmsg(code))
		return
	}
	if u := s.users[req.ToUser]; u != nil && u.unfollowed {
		apiError(w, 43004, errmsg(43004))
		return
	}
	// WeChat sends a template message once per client_msg_id.
	if id, seen := s.templates[req.ClientMsgID]; seen && req.ClientMsgID != "" {
		apiAnswer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": id})
		return
	}
	p := s.record(Push{To: req.ToUser, Channel: "template", Text: renderCard(t.Title, fields, req.URL),
		TemplateID: req.TemplateID, Title: t.Title, Fields: fields, URL: req.URL, Data: data, ClientMsgID: req.ClientMsgID})
	if req.ClientMsgID != "" {
		s.templates[req.ClientMsgID] = p.MsgID
	}
	apiAnswer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": p.MsgID})
}

// serveBizSend plays /cgi-bin/message/subscribe/bizsend: a 订阅通知 goes
// only to a user holding a one-time grant for its template, and spends it
// (43101 otherwise).
func (s *Sim) serveBizSend(w http.ResponseWriter, r *http.Request) {
	req, t, data, fields, ok := s.readTemplateSend(w, r, s.cfg.SubscribeTemplates)
	if !ok || !s.stall(r, req.ToUser) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.takeFailure(req.ToUser, "subscribe"); code != 0 {
		apiError(w, code, errmsg(code))
		return
	}
	u := s.users[req.ToUser]
	switch {
	case u != nil && u.unfollowed:
		apiError(w, 43004, errmsg(43004))
		return
	case u == nil || u.grants[req.TemplateID] <= 0:
		apiError(w, 43101, errmsg(43101))
		return
	}
	u.grants[req.TemplateID]--
	p := s.record(Push{To: req.ToUser, Channel: "subscribe", Text: renderCard(t.Title, fields, req.Page),
		TemplateID: req.TemplateID, Title: t.Title, Fields: fields, URL: req.Page, Data: data})
	apiAnswer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": p.MsgID})
}

// record keeps a push and tells the waiters. Callers hold s.mu.
func (s *Sim) record(p Push) Push {
	s.nextPushID++
	p.MsgID = s.nextPushID
	p.At = s.cfg.Now()
	s.pushes = append(s.pushes, p)
	s.note(p.To, "push", p.Text, p.Channel)
	if p.Title != "" {
		c := s.chats[p.To]
		c[len(c)-1].Card = &Card{Title: p.Title, Fields: slices.Clone(p.Fields), URL: p.URL}
	}
	s.cfg.Log.Debug("wechatsim recorded a push", "channel", p.Channel)
	return p
}
