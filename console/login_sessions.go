package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"gridbot/core"
)

// Session rules (登录失败处理, 等保 level 3): a session ends after
// IdleTimeout without a request and after its lifetime (SessionTTL) in any
// case; with SingleSession a new login ends the person's older sessions,
// and both sides are told — the new login in its answer, the old page by
// the reason its next request is refused with.

const (
	// liveKeyPrefix marks that a person has logged in within a session's
	// lifetime: a new login knows there may be older sessions to end.
	liveKeyPrefix = "console:live:"
	// supersededKeyPrefix keeps when and from where a login ended the
	// person's older sessions, for the reason shown to them.
	supersededKeyPrefix = "console:superseded:"
	// seenEvery is how often a session's last request is written: the
	// idle timeout is exact to this.
	seenEvery = time.Minute
)

// msgSessionIdle and msgSuperseded tell a person why their page logged
// out.
const (
	msgSessionIdle = "长时间未操作，已自动退出，请重新登录"
	msgSuperseded  = "您的账号已在其他地方登录（%s，来自 %s），此处已退出。如非本人操作，请立即联系安全管理员。"
	msgEndedOthers = "您在其他地方的登录已结束"
)

// superseded is the note a login that ended older sessions leaves.
type superseded struct {
	At   time.Time `json:"at"`
	Addr string    `json:"addr"`
}

// seen is when the session last served a request (its start, for sessions
// from before the idle timeout).
func (sess *session) seen() time.Time {
	if sess.Seen.IsZero() {
		return sess.Created
	}
	return sess.Seen
}

// expired reports whether sess is past its lifetime or idle too long at now.
func (s *Server) expired(sess *session, now time.Time) bool {
	return !now.Before(sess.Created.Add(s.sessionTTL())) ||
		(s.IdleTimeout > 0 && !now.Before(sess.seen().Add(s.IdleTimeout)))
}

// sessionKeyTTL is how long the store keeps a session seen at now: to the
// end of its idle time, never past its lifetime.
func (s *Server) sessionKeyTTL(sess *session, now time.Time) time.Duration {
	ttl := sess.Created.Add(s.sessionTTL()).Sub(now)
	if s.IdleTimeout > 0 {
		ttl = min(ttl, s.IdleTimeout)
	}
	return max(ttl, time.Second)
}

// touch records a request on the session at key, at most once per
// seenEvery; a failure only shortens the session.
func (s *Server) touch(ctx context.Context, key string, sess session, now time.Time) {
	if s.IdleTimeout <= 0 || now.Sub(sess.seen()) < min(seenEvery, s.IdleTimeout/10) {
		return
	}
	sess.Seen = now
	v, err := json.Marshal(sess)
	if err == nil {
		err = s.Sessions.Set(ctx, key, v, s.sessionKeyTTL(&sess, now))
	}
	if err != nil {
		s.log().WarnContext(ctx, "console session: last request not recorded", "err", err)
	}
}

// endOlderSessions ends staff's sessions before a new login when one
// session per person is the rule, and reports whether there may have been
// any.
func (s *Server) endOlderSessions(r *http.Request, staff *core.Staff) (bool, error) {
	ctx := r.Context()
	if !s.SingleSession {
		return false, s.Sessions.Set(ctx, liveKeyPrefix+staff.ID, []byte("1"), s.sessionTTL())
	}
	_, live, err := s.Sessions.Get(ctx, liveKeyPrefix+staff.ID)
	if err != nil {
		return false, err
	}
	if live {
		note, _ := json.Marshal(superseded{At: s.now(), Addr: s.Proxies.Addr(r).String()})
		if err := s.Sessions.Set(ctx, supersededKeyPrefix+staff.ID, note, s.sessionTTL()); err != nil {
			return false, err
		}
		if err := EndSessions(ctx, s.Sessions, s.Hub, staff.ID); err != nil {
			return false, err
		}
		s.record(r, staff.ID, core.AuditLogout, "", core.AuditOK, "新登录结束了此前的会话")
	}
	return live, s.Sessions.Set(ctx, liveKeyPrefix+staff.ID, []byte("1"), s.sessionTTL())
}

// endedWhy is the words a request of an ended session is refused with:
// idle, superseded by a newer login, or the plain "log in".
func (s *Server) endedWhy(ctx context.Context, sess *session, now time.Time) string {
	if s.IdleTimeout > 0 && !now.Before(sess.seen().Add(s.IdleTimeout)) && now.Before(sess.Created.Add(s.sessionTTL())) {
		return msgSessionIdle
	}
	raw, ok, err := s.Sessions.Get(ctx, supersededKeyPrefix+sess.Staff)
	if err != nil || !ok {
		return msgLoginFirst
	}
	var note superseded
	if json.Unmarshal(raw, &note) != nil || !note.At.After(sess.Created) {
		return msgLoginFirst
	}
	return sprintfWhen(msgSuperseded, note.At.In(s.Town.Town().Zone()).Format("01-02 15:04"), note.Addr)
}

func sprintfWhen(format, when, addr string) string { return fmt.Sprintf(format, when, addr) }
