package dialogs

import (
	"time"

	"gridbot/core"
)

// Session is where one resident stands in a dialog. It is plain data, saved
// as JSON between messages; the zero Session means "not in a dialog".
type Session struct {
	// Flow names the dialog ("intake"); empty when there is none.
	Flow string `json:"flow,omitempty"`
	// Step names the step of Flow waiting for the resident's reply.
	Step string `json:"step,omitempty"`
	// Draft is what the resident has told the intake so far.
	Draft core.Draft `json:"draft"`
	// Village is the village chosen from the list while the grid is not
	// chosen yet.
	Village string `json:"village,omitempty"`
	// Return is the step to go to once the current step is done instead of
	// the flow's next one: the summary, while the resident changes one part
	// of the draft (修改).
	Return string `json:"return,omitempty"`
	// UpdatedAt is when the resident last moved the dialog; a session idle
	// longer than the engine's IdleTimeout has expired.
	UpdatedAt time.Time `json:"updated_at"`
}

// Active reports whether the session is in a dialog.
func (s *Session) Active() bool { return s.Flow != "" }

// reset ends the dialog.
func (s *Session) reset() { *s = Session{} }
