package core

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PasswordPolicy is the rule for staff passwords (等保 2.0 身份鉴别:
// complexity, periodic change, no reuse). Its zero value asks only the
// bcrypt-safe length bounds, as before the policy existed (the tests').
type PasswordPolicy struct {
	// MinLength is the fewest characters; below 8 counts as 8.
	MinLength int
	// Classes is how many of the four kinds of character — lower-case
	// letters, upper-case letters, digits, other symbols — a password
	// must mix (0 or 1: any).
	Classes int
	// MaxAge is how long a password serves before its holder must change
	// it at login; 0 never.
	MaxAge time.Duration
	// History is how many of the person's last passwords, the current one
	// included, a new password must differ from; 0 or 1 only the current.
	History int
}

// MaxPasswordBytes is bcrypt's limit: it ignores what comes after.
const MaxPasswordBytes = 72

// minPasswordLength is the floor of every policy.
const minPasswordLength = 8

func (p PasswordPolicy) minLength() int { return max(p.MinLength, minPasswordLength) }

// PasswordClasses counts the kinds of character in pw: lower-case,
// upper-case, digits, anything else.
func PasswordClasses(pw string) int {
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case r < utf8.RuneSelf && unicode.IsLower(r):
			lower = true
		case r < utf8.RuneSelf && unicode.IsUpper(r):
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// Rule says the policy in the words staff read, e.g. "至少 8 位，含大写字母、小写字母、数字、符号中的至少 3 类".
func (p PasswordPolicy) Rule() string {
	s := fmt.Sprintf("至少 %d 位", p.minLength())
	if p.Classes > 1 {
		s += fmt.Sprintf("，含大写字母、小写字母、数字、符号中的至少 %d 类", min(p.Classes, 4))
	}
	if p.History > 1 {
		s += fmt.Sprintf("，不得与最近 %d 次用过的密码相同", p.History)
	}
	return s
}

// Check tells whether pw is fit to be set; the error (wrapping ErrInvalid)
// says why in the words of Rule. Reuse is the caller's to check (it needs
// the hashes, see StaffAccount.PasswordHashes).
func (p PasswordPolicy) Check(pw string) error {
	if utf8.RuneCountInString(pw) < p.minLength() || len(pw) > MaxPasswordBytes {
		return fmt.Errorf("password: length: %w", ErrInvalid)
	}
	if strings.TrimSpace(pw) != pw {
		return fmt.Errorf("password: spaces at an end: %w", ErrInvalid)
	}
	if p.Classes > 1 && PasswordClasses(pw) < min(p.Classes, 4) {
		return fmt.Errorf("password: %d kinds of character: %w", PasswordClasses(pw), ErrInvalid)
	}
	return nil
}

// Expired tells whether a password set at setAt must be changed at a login
// at now. A password of unknown age (a hash written into the directory
// file, or set before the policy) has no date and does not expire: set it
// again on the console or with `gridbot staff password` to date it.
func (p PasswordPolicy) Expired(setAt, now time.Time) bool {
	return p.MaxAge > 0 && !setAt.IsZero() && now.Sub(setAt) >= p.MaxAge
}

// keep is how many earlier hashes an account keeps for the reuse check.
func (p PasswordPolicy) keep() int { return max(p.History-1, 0) }

// SetPassword gives the account a new password hash set at at, keeping the
// earlier ones the policy remembers.
func (a *StaffAccount) SetPassword(p PasswordPolicy, hash string, at time.Time) {
	if a.PasswordHash != "" && p.keep() > 0 {
		a.PasswordHistory = append([]string{a.PasswordHash}, a.PasswordHistory...)
	}
	a.PasswordHistory = a.PasswordHistory[:min(len(a.PasswordHistory), p.keep())]
	if len(a.PasswordHistory) == 0 {
		a.PasswordHistory = nil
	}
	a.PasswordHash, a.PasswordSetAt = hash, at
}

// PasswordHashes are the hashes a new password must not match: the current
// one and the earlier ones the policy remembers.
func (s *Staff) PasswordHashes(p PasswordPolicy) []string {
	var out []string
	if s.PasswordHash != "" {
		out = append(out, s.PasswordHash)
	}
	return append(out, s.PasswordHistory[:min(len(s.PasswordHistory), p.keep())]...)
}
