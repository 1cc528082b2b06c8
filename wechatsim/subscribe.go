package wechatsim

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"gridbot/internal/flatxml"
)

// Where a subscribe pop-up came from (PopupScene in the event).
const (
	ScenePage    = 1 // an H5 page's wx-open-subscribe
	SceneArticle = 2 // a subscribe component in an article
)

// Subscribe plays a resident tapping a subscribe button (wx-open-subscribe)
// on a page of the account: for each template, accept grants one more
// one-time 订阅通知 (a bizsend spends one), a refusal grants nothing, and
// WeChat tells the account with a subscribe_msg_popup_event. Template IDs
// the account has not got are refused as WeChat refuses them. (The JS-SDK
// the page needs for that button is played in jssdk.go; this is the tap.)
func (s *Sim) Subscribe(ctx context.Context, openid string, templateIDs []string, accept bool) (Result, error) {
	return s.subscribe(ctx, openid, templateIDs, accept, ScenePage)
}

func (s *Sim) subscribe(ctx context.Context, openid string, templateIDs []string, accept bool, scene int) (Result, error) {
	status := "reject"
	if accept {
		status = "accept"
	}
	s.mu.Lock()
	for _, id := range templateIDs {
		if _, ok := findTemplate(s.cfg.SubscribeTemplates, id); !ok {
			s.mu.Unlock()
			return Result{}, fmt.Errorf("wechatsim: the account has no subscribe template %q", id)
		}
	}
	u := s.user(openid)
	if accept {
		for _, id := range templateIDs {
			u.grants[id]++
		}
	}
	s.note(openid, "sent", "[订阅通知："+map[bool]string{true: "允许", false: "取消"}[accept]+"]", "")
	s.mu.Unlock()
	return s.Post(ctx, openid, OutgoingMessage{MsgType: "event", Event: "subscribe_msg_popup_event",
		Raw: s.popupEvent(openid, templateIDs, status, scene)})
}

// Grants reports openid's unspent one-time grants for templateID.
func (s *Sim) Grants(openid, templateID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[openid]; u != nil {
		return u.grants[templateID]
	}
	return 0
}

// popupEvent is the subscribe_msg_popup_event WeChat posts: one List per
// template, with PopupScene 1 for a page (H5) of the account, 2 for an
// article.
func (s *Sim) popupEvent(openid string, templateIDs []string, status string, scene int) []byte {
	var b []byte
	b = append(b, "<xml><ToUserName>"...)
	b = flatxml.AppendCDATA(b, s.cfg.AccountID)
	b = append(b, "</ToUserName><FromUserName>"...)
	b = flatxml.AppendCDATA(b, openid)
	b = append(b, "</FromUserName><CreateTime>"...)
	b = strconv.AppendInt(b, s.cfg.Now().Unix(), 10)
	b = append(b, "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>"...)
	for _, id := range templateIDs {
		b = append(b, "<List><TemplateId>"...)
		b = flatxml.AppendCDATA(b, id)
		b = append(b, "</TemplateId><SubscribeStatusString>"...)
		b = flatxml.AppendCDATA(b, status)
		b = append(b, "</SubscribeStatusString><PopupScene>"...)
		b = strconv.AppendInt(b, int64(scene), 10)
		b = append(b, "</PopupScene></List>"...)
	}
	b = append(b, "</SubscribeMsgPopupEvent></xml>"...)
	return b
}

// subscribeRequest is what the phone page posts to /sim/subscribe.
type subscribeRequest struct {
	OpenID    string   `json:"openid"`
	Templates []string `json:"templates"` // empty means every subscribe template
	Accept    bool     `json:"accept"`
	// Page is the page whose wx-open-subscribe was tapped; it must have
	// passed wx.config (jssdk.go). Empty: the phone's own button, a
	// subscribe component in an article.
	Page string `json:"page"`
}

// templateIDs lists ids, or every subscribe template's when empty.
func (s *Sim) subscribeIDs(ids []string) []string {
	if len(ids) > 0 {
		return ids
	}
	for _, t := range s.cfg.SubscribeTemplates {
		ids = append(ids, t.ID)
	}
	return ids
}

func (s *Sim) serveSubscribe(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "需要 application/json"})
		return
	}
	var req subscribeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请求格式不对"})
		return
	}
	req.OpenID = strings.TrimSpace(req.OpenID)
	ids := s.subscribeIDs(req.Templates)
	switch {
	case req.OpenID == "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请先填写 openid"})
		return
	case len(ids) == 0:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "公众号没有订阅通知模板"})
		return
	}
	scene := SceneArticle
	if req.Page != "" {
		s.mu.Lock()
		ok := s.pageMayAsk(req.OpenID, req.Page)
		s.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "该网页未通过 wx.config 验证，不能使用 wx-open-subscribe"})
			return
		}
		scene = ScenePage
	}
	res, err := s.subscribe(r.Context(), req.OpenID, ids, req.Accept, scene)
	switch {
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "订阅没有成功：" + err.Error()})
	case res.Status != http.StatusOK:
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "公众号回应 HTTP " + strconv.Itoa(res.Status)})
	default:
		// What the open tag's success event carries (subscribeDetails).
		details := map[string]string{}
		status := map[bool]string{true: `{"status":"accept"}`, false: `{"status":"reject"}`}[req.Accept]
		for _, id := range ids {
			details[id] = status
		}
		raw, _ := json.Marshal(details)
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "subscribeDetails": string(raw)})
	}
}
