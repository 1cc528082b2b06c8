package configs

import (
	"fmt"
	"time"

	"gridbot/core"
)

// AuditSettings keep the audit trail (等保 2.0 安全审计).
type AuditSettings struct {
	// Keep is how long audit records are kept: at least 180 days
	// (core.AuditKeepMin); 0 keeps them for ever. The personal-data
	// retention never erases them.
	Keep time.Duration `koanf:"keep"`
}

// CryptoSettings are the data keys that seal personal data at rest (SM4)
// and key the lookups by it (HMAC-SM3), package sealing. Neither set: the
// data is written plain (the tests'; the demo makes a key file).
type CryptoSettings struct {
	// KeyFile is the key file (mode 0600; gridbot keys new writes one).
	KeyFile string `koanf:"key_file"`
	// Keys is the key file's text itself, lines separated by ';', for a
	// deployment that hands secrets over in the environment
	// (GRIDBOT_CRYPTO_KEYS). Only one of the two may be set.
	Keys string `koanf:"keys"`
}

// SecuritySettings are the console's login and session rules.
type SecuritySettings struct {
	// SecondFactor is "required" (every console login asks for a code
	// from the person's authenticator app, enrolled at their first login)
	// or "off" (a password alone: the demo's default and some tests; never
	// for a town's service, which 等保 level 3 requires two factors of).
	SecondFactor string `koanf:"second_factor"`
	// IdleTimeout ends a console session this long after its last
	// request; SessionLifetime ends it in any case.
	IdleTimeout     time.Duration `koanf:"idle_timeout"`
	SessionLifetime time.Duration `koanf:"session_lifetime"`
	// ConcurrentSessions is "end_older" (a new login ends the person's
	// older sessions, and they are told) or "allow".
	ConcurrentSessions string `koanf:"concurrent_sessions"`
	// PasswordMinLength, PasswordClasses (of lower-case, upper-case,
	// digits, symbols), PasswordMaxAge (0: never expires) and
	// PasswordHistory (how many last passwords a new one must differ
	// from) are the password policy (core.PasswordPolicy).
	PasswordMinLength int           `koanf:"password_min_length"`
	PasswordClasses   int           `koanf:"password_classes"`
	PasswordMaxAge    time.Duration `koanf:"password_max_age"`
	PasswordHistory   int           `koanf:"password_history"`
}

// PasswordPolicy is the policy the settings describe.
func (s SecuritySettings) PasswordPolicy() core.PasswordPolicy {
	return core.PasswordPolicy{MinLength: s.PasswordMinLength, Classes: s.PasswordClasses, MaxAge: s.PasswordMaxAge,
		History: s.PasswordHistory}
}

// SecondFactorRequired reports whether console logins need a second factor.
func (s SecuritySettings) SecondFactorRequired() bool { return s.SecondFactor != "off" }

func (c *Config) validateSecurity() error {
	if c.Audit.Keep != 0 && c.Audit.Keep < core.AuditKeepMin {
		return fmt.Errorf("config audit.keep %s: 0 (keep for ever) or at least %s (180 days, 网络安全法 第二十一条)", c.Audit.Keep, core.AuditKeepMin)
	}
	if c.Security.IdleTimeout < time.Minute || c.Security.IdleTimeout > 24*time.Hour {
		return fmt.Errorf("config security.idle_timeout %s: 1m to 24h", c.Security.IdleTimeout)
	}
	if c.Security.SessionLifetime < c.Security.IdleTimeout || c.Security.SessionLifetime > 7*24*time.Hour {
		return fmt.Errorf("config security.session_lifetime %s: from security.idle_timeout to 168h", c.Security.SessionLifetime)
	}
	switch c.Security.ConcurrentSessions {
	case "end_older", "allow":
	default:
		return fmt.Errorf("config security.concurrent_sessions %q: want end_older or allow", c.Security.ConcurrentSessions)
	}
	if (c.HTTP.TLSCertFile == "") != (c.HTTP.TLSKeyFile == "") {
		return fmt.Errorf("config http.tls_cert_file and http.tls_key_file: set both, or neither")
	}
	if c.Crypto.KeyFile != "" && c.Crypto.Keys != "" {
		return fmt.Errorf("config crypto.key_file and crypto.keys: set one of them")
	}
	if c.Security.PasswordMinLength < 8 || c.Security.PasswordMinLength > core.MaxPasswordBytes {
		return fmt.Errorf("config security.password_min_length %d: 8 to %d", c.Security.PasswordMinLength, core.MaxPasswordBytes)
	}
	if c.Security.PasswordClasses < 1 || c.Security.PasswordClasses > 4 {
		return fmt.Errorf("config security.password_classes %d: 1 to 4 (of lower-case, upper-case, digits, symbols)", c.Security.PasswordClasses)
	}
	if c.Security.PasswordMaxAge != 0 && c.Security.PasswordMaxAge < 24*time.Hour {
		return fmt.Errorf("config security.password_max_age %s: 0 (never) or at least 24h", c.Security.PasswordMaxAge)
	}
	if c.Security.PasswordHistory < 1 || c.Security.PasswordHistory > 24 {
		return fmt.Errorf("config security.password_history %d: 1 (only the current one) to 24", c.Security.PasswordHistory)
	}
	switch c.Security.SecondFactor {
	case "required", "off":
	default:
		return fmt.Errorf("config security.second_factor %q: want required or off", c.Security.SecondFactor)
	}
	return nil
}
