package console

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"gridbot/internal/clientaddr"
)

// Login throttling. Every attempt is counted before its password is
// checked, with the store's atomic counter, so a thousand attempts sent at
// once are counted a thousand times and only those within the limits reach
// bcrypt. Three counts, each over loginWindow from its first attempt:
//
//   - the account from one address (maxPairAttempts): what one guesser
//     gets; a correct login clears it;
//   - the address (maxAddrAttempts), for addresses the account has not
//     logged in from: one address trying many names;
//   - the account from addresses it has not logged in from
//     (accountFreeAttempts), past which one attempt is checked per wait,
//     and the wait doubles up to loginWindow: guessing from many
//     addresses slows to a crawl.
//
// An address the account logged in from within knownAddrFor counts only
// against the first limit, so neither a stranger's flood from elsewhere nor
// a colleague's typos on a shared office address keep the account holder
// out; and the address limit only ever stops that address.
const (
	loginKeyPrefix      = "console:login:"
	maxPairAttempts     = 5
	maxAddrAttempts     = 50
	accountFreeAttempts = 10
	loginWindow         = 15 * time.Minute
	knownAddrFor        = 30 * 24 * time.Hour
)

// msgAccountBusy answers an attempt held by the account's wait.
const msgAccountBusy = "该账号近期登录失败过多，请稍后再试；在以前登录过的网络上登录不受影响"

// LoginThrottle is the login throttling above, for every login that keeps
// its counts in a SessionStore: the console's, and the city's view
// (cmd/gridbot), so that the rule is written once. Admit each attempt
// before its password is checked; tell LoggedIn of each login that
// succeeded, from where.
type LoginThrottle struct {
	Keys    SessionStore
	Proxies clientaddr.Proxies
	// Prefix starts the keys of the counts, so that logins sharing a store
	// keep apart: the console's is "console:login:".
	Prefix string
	// AddrAttempts is what an unfamiliar address may try in the window;
	// 0 means maxAddrAttempts.
	AddrAttempts int
}

// loginThrottle is the console's throttle.
func (s *Server) loginThrottle() *LoginThrottle {
	return &LoginThrottle{Keys: s.Sessions, Proxies: s.Proxies, Prefix: loginKeyPrefix, AddrAttempts: s.addrFailures}
}

// loginKeys are the Ephemeral keys of one login attempt's counts. The name
// and the address are hashed, so that the keys hold nothing a person typed
// and no address.
type loginKeys struct {
	pair, addr, account, slot, known string
}

func (t *LoginThrottle) keys(r *http.Request, username string) loginKeys {
	hash := func(parts ...string) string {
		sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
		return hex.EncodeToString(sum[:12])
	}
	user := strings.ToLower(strings.TrimSpace(username))
	addr := clientaddr.Key(t.Proxies.Addr(r))
	return loginKeys{
		pair:    t.Prefix + "pair:" + hash(user, addr),
		addr:    t.Prefix + "addr:" + hash(addr),
		account: t.Prefix + "account:" + hash(user),
		slot:    t.Prefix + "slot:" + hash(user),
		known:   t.Prefix + "known:" + hash(user, addr),
	}
}

// accountWait is how long an account waits between checked attempts once n
// attempts from unfamiliar addresses have been made in the window: a
// minute, doubling every accountFreeAttempts more, up to loginWindow.
func accountWait(n int64) time.Duration {
	over := max(n-accountFreeAttempts-1, 0) / accountFreeAttempts
	if over >= 4 {
		return loginWindow
	}
	return min(time.Minute<<over, loginWindow)
}

// Admit charges an attempt to log in as username from r's address to its
// counts and reports whether its password may be checked, and if not,
// what to answer (in Chinese, for the person).
func (t *LoginThrottle) Admit(r *http.Request, username string) (ok bool, refusal string, err error) {
	return t.admit(r.Context(), t.keys(r, username))
}

func (t *LoginThrottle) admit(ctx context.Context, k loginKeys) (ok bool, refusal string, err error) {
	n, err := t.Keys.Incr(ctx, k.pair, loginWindow)
	if err != nil || n > maxPairAttempts {
		return false, msgTooMany, err
	}
	if _, known, err := t.Keys.Get(ctx, k.known); err != nil || known {
		return err == nil, "", err
	}
	if n, err := t.Keys.Incr(ctx, k.addr, loginWindow); err != nil || n > int64(cmp.Or(t.AddrAttempts, maxAddrAttempts)) {
		return false, msgTooMany, err
	}
	n, err = t.Keys.Incr(ctx, k.account, loginWindow)
	if err != nil || n <= accountFreeAttempts {
		return err == nil, "", err
	}
	// Past the free attempts one attempt is checked per wait: whoever
	// takes the slot.
	if took, err := t.Keys.SetNX(ctx, k.slot, []byte("1"), accountWait(n)); err != nil || !took {
		return false, msgAccountBusy, err
	}
	return true, "", nil
}

// LoggedIn tells the throttle that username logged in from r's address:
// its count there starts again, and the address now knows the account, so
// that a stranger's flood from elsewhere no longer keeps its holder out
// from here. An error is worth a warning only: the login stands.
func (t *LoginThrottle) LoggedIn(r *http.Request, username string) error {
	k := t.keys(r, username)
	return errors.Join(t.Keys.Delete(r.Context(), k.pair), t.Keys.Set(r.Context(), k.known, []byte("1"), knownAddrFor))
}
