package configs

import (
	"fmt"
	"time"

	"gridbot/core"
)

// validateGuards checks the settings that bound what an attacker can do:
// replays, guessed binding codes, a flood of filings.
func (c *Config) validateGuards() error {
	switch {
	case c.WeChat.MaxClockSkew < 30*time.Second || c.WeChat.MaxClockSkew > time.Hour:
		return fmt.Errorf("config wechat.max_clock_skew %s: between 30s and 1h", c.WeChat.MaxClockSkew)
	case c.Staff.BindAttempts < 1 || c.Staff.BindAttempts > 1000:
		return fmt.Errorf("config staff.bind_attempts %d: from 1 to 1000", c.Staff.BindAttempts)
	case c.Staff.BindLock < time.Minute || c.Staff.BindLock > 7*24*time.Hour:
		return fmt.Errorf("config staff.bind_lock %s: between 1m and 168h", c.Staff.BindLock)
	case c.Filing.MaxRecent < 1 || c.Filing.MaxRecent > 1000:
		return fmt.Errorf("config filing.max_recent %d: from 1 to 1000", c.Filing.MaxRecent)
	case c.Filing.RecentWindow < time.Minute || c.Filing.RecentWindow > 24*time.Hour:
		return fmt.Errorf("config filing.recent_window %s: between 1m and 24h", c.Filing.RecentWindow)
	case c.Filing.MaxOpen < 1 || c.Filing.MaxOpen > 1000:
		return fmt.Errorf("config filing.max_open %d: from 1 to 1000", c.Filing.MaxOpen)
	}
	return nil
}

// SubmitLimits are the filing settings as the ledger takes them; channels
// that file for many people under one name (exempt, e.g. Open311's
// "open311:") answer for their own volume.
func (c *Config) SubmitLimits(exempt ...string) core.SubmitLimits {
	return core.SubmitLimits{Recent: c.Filing.MaxRecent, Window: c.Filing.RecentWindow, Open: c.Filing.MaxOpen,
		ExemptPrefixes: exempt}
}
