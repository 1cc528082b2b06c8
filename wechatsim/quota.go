package wechatsim

import "time"

// The customer-service quota as WeChat applies it today (cut in June 2023):
// a message from the user allows 5 sends within 48 hours; a menu tap, a
// follow or a QR scan opens no 48-hour window, only 3 sends within 1
// minute. Other events (a page view's location report, delivery receipts,
// subscribe pop-ups) allow nothing.
const (
	messageSpan  = 48 * time.Hour
	messageSends = 5
	tapSpan      = time.Minute
	tapSends     = 3
)

// user is what the simulator keeps per openid.
type user struct {
	msgAt      time.Time // the user's last message
	msgSends   int       // customer-service sends since msgAt
	tapAt      time.Time // the last menu tap, follow or scan
	tapSends   int       // customer-service sends since tapAt
	unfollowed bool
	// grants counts one-time 订阅通知 grants per template ID.
	grants map[string]int
}

// opensMessageWindow reports whether m is the user writing to the account.
func opensMessageWindow(m OutgoingMessage) bool {
	switch m.MsgType {
	case "text", "image", "voice", "video", "shortvideo", "location", "link":
		return true
	}
	return false
}

// opensTapWindow reports whether m is a menu tap, a follow or a QR scan.
func opensTapWindow(m OutgoingMessage) bool {
	if m.MsgType != "event" {
		return false
	}
	switch m.Event {
	case "CLICK", "VIEW", "subscribe", "SCAN":
		return true
	}
	return false
}

// spendCustom charges one customer-service send to u at now, or returns
// WeChat's refusal: 43004 unfollowed, 45047 quota spent, 45015 no window.
// The short tap allowance is spent first: it lapses within the minute.
func (u *user) spendCustom(now time.Time) int {
	if u == nil {
		return 45015
	}
	tapOpen := !u.tapAt.IsZero() && now.Sub(u.tapAt) < tapSpan
	msgOpen := !u.msgAt.IsZero() && now.Sub(u.msgAt) < messageSpan
	switch {
	case u.unfollowed:
		return 43004
	case tapOpen && u.tapSends < tapSends:
		u.tapSends++
	case msgOpen && u.msgSends < messageSends:
		u.msgSends++
	case tapOpen || msgOpen:
		return 45047
	default:
		return 45015
	}
	return 0
}
