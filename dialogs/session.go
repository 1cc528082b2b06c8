package dialogs

import (
	"time"

	"gridbot/core"
)

// Session is where one resident stands in a dialog. It is plain data, saved
// as JSON between messages; the zero Session means "not in a dialog".
type Session struct {
	// Flow names the dialog ("intake", "register", …); empty when there
	// is none.
	Flow string `json:"flow,omitempty"`
	// Step names the step of Flow waiting for the resident's reply.
	Step string `json:"step,omitempty"`
	// Draft is what the resident has told the intake (or, in the register
	// flow, the household file) so far.
	Draft core.Draft `json:"draft"`
	// Village is the village chosen from the list while the grid is not
	// chosen yet.
	Village string `json:"village,omitempty"`
	// Return is the step to go to once the current step is done instead of
	// the flow's next one: the summary, while the resident changes one part
	// of the draft (修改).
	Return string `json:"return,omitempty"`
	// Free marks an intake the resident opened by describing the problem
	// (or with a photo, a location or a voice note): the category is
	// guessed from the description instead of asked first.
	Free bool `json:"free,omitempty"`
	// Guess are the category codes offered for confirmation; Guessed is
	// true once the guess was made (then the list is asked if it fails).
	Guess   []string `json:"guess,omitempty"`
	Guessed bool     `json:"guessed,omitempty"`
	// PhoneSet is true once the phone is settled (given, skipped, or
	// taken from the household file).
	PhoneSet bool `json:"phone_set,omitempty"`
	// FromHousehold is true while the place and phone are the household
	// file's.
	FromHousehold bool `json:"from_household,omitempty"`
	// JoinChecked is true once open cases nearby were looked for (附议);
	// Offers are those offered.
	JoinChecked bool    `json:"join_checked,omitempty"`
	Offers      []offer `json:"offers,omitempty"`
	// Case is the case a supplement goes to (补充).
	Case string `json:"case,omitempty"`
	// Name is how the resident wishes to be called (register flow).
	Name string `json:"name,omitempty"`
	// GuessPicked is the category the resident took from the guess, so
	// a case filed with it counts toward the share of right guesses.
	GuessPicked string `json:"guess_picked,omitempty"`
	// Traditional is true while the resident writes traditional
	// characters: replies are in traditional too.
	Traditional bool `json:"traditional,omitempty"`
	// UpdatedAt is when the resident last moved the dialog; a session idle
	// longer than the engine's IdleTimeout has expired.
	UpdatedAt time.Time `json:"updated_at"`

	// from is the openid of the resident answering now; not saved.
	from string
	// forgotten is set by 注销 once the resident's data is erased, so the
	// service also erases what it keeps beside the session (their script).
	forgotten bool
}

// offer is an open case offered to join (附议): its number, and what the
// prompt shows of it — never another resident's words.
type offer struct {
	Number   string `json:"number"`
	Category string `json:"category"`
	Place    string `json:"place"`
	Date     string `json:"date"`
}

// Active reports whether the session is in a dialog.
func (s *Session) Active() bool { return s.Flow != "" }

// reset ends the dialog.
func (s *Session) reset() { *s = Session{from: s.from} }
