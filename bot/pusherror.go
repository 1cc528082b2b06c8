package bot

import "gridbot/core"

// pushError is WeChat's refusal as the router reads it: the codes a retry
// can cure (a busy server, a stale token, a rate limit) are temporary, every
// other is for good.
func pushError(code int, msg string) *core.PushError {
	return &core.PushError{Channel: core.ChannelWeChat, Code: code, Msg: msg, Temporary: temporaryCode(code)}
}

// temporaryCode reports whether WeChat's errcode may clear on a retry.
func temporaryCode(code int) bool {
	switch code {
	case -1, 40001, 42001, 40014, 45009, 45011:
		return true
	}
	return false
}
