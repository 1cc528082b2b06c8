package wxpages

import "context"

// Authority is WeChat's web authorisation (网页授权, snsapi_base), which
// bot.WebAuth implements: where to send a reader without a session, and the
// openid a code stands for. A code is good once and for five minutes.
type Authority interface {
	AuthorizeURL(redirectURI, state string) string
	OpenID(ctx context.Context, code string) (string, error)
}
