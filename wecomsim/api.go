package wecomsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// tokenLife is an access token's life, as at WeCom.
const tokenLife = 7200 * time.Second

// PerMember is WeCom's bound on an app's messages to one member a minute;
// the rest are dropped.
const PerMember = 30

func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCalls++
	switch {
	case q.Get("corpid") != s.cfg.CorpID:
		apiError(w, 40013, "invalid corpid")
		return
	case q.Get("corpsecret") != s.cfg.Secret:
		apiError(w, 40001, "invalid credential")
		return
	}
	// Within its life, WeCom hands out the same token again.
	now := s.cfg.Now()
	if exp, ok := s.tokens[s.current]; !ok || !now.Before(exp) {
		s.current = randomHex(24)
		s.tokens[s.current] = now.Add(tokenLife)
	}
	answer(w, map[string]any{"access_token": s.current, "expires_in": int(s.tokens[s.current].Sub(now) / time.Second)})
}

// ExpireTokens makes every token issued so far stale (42001).
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.tokens {
		s.tokens[k] = time.Time{}
	}
}

// tokenOK answers a bad token as WeCom does and reports whether it is good.
// Callers hold s.mu.
func (s *Sim) tokenOK(w http.ResponseWriter, r *http.Request) bool {
	exp, ok := s.tokens[r.URL.Query().Get("access_token")]
	switch {
	case !ok:
		apiError(w, 40014, "invalid access_token")
		return false
	case !s.cfg.Now().Before(exp):
		apiError(w, 42001, "access_token expired")
		return false
	}
	return true
}

// sendRequest is message/send's body, as far as the simulator reads it.
type sendRequest struct {
	ToUser  string          `json:"touser"`
	ToParty string          `json:"toparty"`
	ToTag   string          `json:"totag"`
	MsgType string          `json:"msgtype"`
	AgentID json.RawMessage `json:"agentid"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	TextCard *Card `json:"textcard"`
}

func (s *Sim) serveSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tokenOK(w, r) {
		return
	}
	var req sendRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		apiError(w, 40058, "invalid json")
		return
	}
	agent := strings.Trim(string(req.AgentID), `"`)
	if agent != strconv.Itoa(s.cfg.AgentID) {
		apiError(w, 40056, "invalid agentid")
		return
	}
	var e Entry
	switch {
	case req.MsgType == "text" && req.Text != nil && req.Text.Content != "":
		if len(req.Text.Content) > 2048 {
			apiError(w, 44004, "text content exceed max length")
			return
		}
		e = Entry{Kind: "push", Text: req.Text.Content}
	case req.MsgType == "textcard" && req.TextCard != nil:
		c := req.TextCard
		switch {
		case c.Title == "" || c.Description == "" || c.URL == "":
			apiError(w, 41016, "missing title, description or url")
			return
		case len(c.Title) > 128 || len(c.Description) > 512 || utf8.RuneCountInString(c.BtnTxt) > 4:
			apiError(w, 44004, "textcard field exceeds its length")
			return
		}
		e = Entry{Kind: "push", Text: c.Title, Card: c}
	default:
		apiError(w, 40008, "invalid message type")
		return
	}
	if req.ToParty != "" || req.ToTag != "" {
		apiError(w, 40066, "the simulator reaches members by userid only")
		return
	}
	var invalid []string
	now := s.cfg.Now()
	for _, u := range strings.Split(req.ToUser, "|") {
		if !s.member(u) || s.outOfRange[u] {
			invalid = append(invalid, strings.ToLower(u))
			continue
		}
		recent := inLastMinute(s.sent[u], now)
		if len(recent) >= PerMember {
			// WeCom takes the call and drops the message.
			s.dropped[u]++
			s.sent[u] = recent
			continue
		}
		s.sent[u] = append(recent, now)
		s.note(u, e)
	}
	if len(invalid) > 0 && len(invalid) == len(strings.Split(req.ToUser, "|")) {
		answer(w, map[string]any{"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": strings.Join(invalid, "|")})
		return
	}
	s.msgID++
	answer(w, map[string]any{"invaliduser": strings.Join(invalid, "|"), "msgid": "sim" + strconv.FormatInt(s.msgID, 10)})
}

// RobotPerMinute is a group robot's bound on posts a minute.
const RobotPerMinute = 20

func (s *Sim) serveRobot(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	s.mu.Lock()
	defer s.mu.Unlock()
	group, ok := s.cfg.Robots[key]
	if !ok {
		apiError(w, 93000, "invalid webhook url")
		return
	}
	var req struct {
		MsgType  string                    `json:"msgtype"`
		Text     *struct{ Content string } `json:"text"`
		Markdown *struct{ Content string } `json:"markdown"`
	}
	if err != nil || json.Unmarshal(body, &req) != nil {
		apiError(w, 40058, "invalid json")
		return
	}
	now := s.cfg.Now()
	recent := inLastMinute(s.robotTimes[key], now)
	if len(recent) >= RobotPerMinute {
		s.robotTimes[key] = recent
		s.refused[key]++
		apiError(w, 45009, "api freq out of limit")
		return
	}
	p := RobotPost{Key: key, Group: group, MsgType: req.MsgType, At: now}
	switch {
	case req.MsgType == "text" && req.Text != nil && req.Text.Content != "" && len(req.Text.Content) <= 2048:
		p.Content = req.Text.Content
	case req.MsgType == "markdown" && req.Markdown != nil && req.Markdown.Content != "" && len(req.Markdown.Content) <= 4096:
		p.Content = req.Markdown.Content
	default:
		apiError(w, 40008, "invalid message type or content length")
		return
	}
	s.robotTimes[key] = append(recent, now)
	s.robotPosts = append(s.robotPosts, p)
	close(s.changed)
	s.changed = make(chan struct{})
	answer(w, map[string]any{})
}
