package valkey

import (
	"context"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The department index: P{gb}:dept:<department>, a sorted set of the
// numbers of the cases that department was called to (score 0), so that a
// department's queue reads its own cases and not the ledger. writeScript
// moves a case's entries with its near-index keys (nearKeys); a ledger
// written before the index is indexed once when a store opens it.

func (s *Store) deptKey(department string) string { return s.ledger + "dept:" + department }
func (s *Store) deptedKey() string                { return s.ledger + "depted" }

// deptKeys lists the department index keys case c is under.
func (s *Store) deptKeys(c *core.Case) []string {
	var out []string
	for _, a := range c.Departments {
		out = append(out, s.deptKey(a.Department))
	}
	return out
}

// buildDepts puts every case of a ledger written before the department
// index into it, once, a page at a time.
func (s *Store) buildDepts(ctx context.Context) error {
	return s.indexEveryCase(ctx, s.deptedKey(), "department index", func(number string, c *core.Case) vk.Commands {
		return s.zaddTo(s.deptKeys(c), number)
	})
}
