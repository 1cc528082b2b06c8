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

func (c *Config) validateSecurity() error {
	if c.Audit.Keep != 0 && c.Audit.Keep < core.AuditKeepMin {
		return fmt.Errorf("config audit.keep %s: 0 (keep for ever) or at least %s (180 days, 网络安全法 第二十一条)", c.Audit.Keep, core.AuditKeepMin)
	}
	return nil
}
