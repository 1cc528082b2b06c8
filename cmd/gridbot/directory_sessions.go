package main

import (
	"context"
	"log/slog"
	"time"

	"gridbot/console"
	"gridbot/core"
)

// directoryEdits ends the console sessions of staff whose password hash
// changed, who were disabled, or who were removed in the town directory
// file. Role and scope edits need no help (a session records them), but a
// disable or a removal undone later, or a new password_hash, would
// otherwise leave the old sessions valid. Only the file is watched: the
// console and `gridbot staff` end sessions themselves when they change an
// account, and another instance's staff book catches up later (a refresh
// here must not end the logins made since).
type directoryEdits struct {
	towns core.TownSource
	keys  console.SessionStore
	hub   *console.Hub
	log   *slog.Logger
	last  *core.Town
}

// directoryEditsEvery is how often the directory is compared; it is
// reloaded every town.watch_every (2 s).
const directoryEditsEvery = time.Second

// check compares the directory with the one seen last and ends the sessions
// of the staff it changed that way.
func (d *directoryEdits) check(ctx context.Context) {
	cur := d.towns.Town()
	prev := d.last
	if cur == prev {
		return
	}
	if prev != nil {
		for _, was := range prev.Staff {
			now := cur.StaffMember(was.ID)
			if now != nil && now.PasswordHash == was.PasswordHash && (now.Disabled == was.Disabled || !now.Disabled) {
				continue
			}
			if err := console.EndSessions(ctx, d.keys, d.hub, was.ID); err != nil {
				d.log.Warn("ending the sessions of staff edited in the directory", "staff", was.ID, "err", err)
				return // try again at the next check
			}
			d.log.Info("console sessions ended by a directory edit", "staff", was.ID)
		}
	}
	d.last = cur
}
