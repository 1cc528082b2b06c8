package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"gridbot/core"
)

// The desk's tools (issue 18): 代录 (POST /api/cases), internal notes, 催办,
// 加急 and merging (POST /api/cases/{number}/{note|urge|urgent|merge}).
// Each is a step of the one policy, taken by the ledger inside its write;
// the console offers what core.Town.Steps lists and answers refusals with
// the policy's words.

// Messages of the desk's tools.
const (
	msgNoteInvalid   = "备注不能为空，且不超过1000字"
	msgUrgeInvalid   = "催办意见不超过1000字"
	msgUrgentInvalid = "请填写加急理由，且不超过1000字"
	msgMergeInvalid  = "请填写要并入的事项编号（不能是本事项）"
	msgFileInvalid   = "请选择类别和网格，填写诉求内容（不超过1000字）；电话只能是数字，姓名不超过30字，地址不超过200字"
)

// deskActions are the desk's steps on a case, served like caseActions.
func (s *Server) deskActions() []caseAction {
	return []caseAction{
		{step: core.StepNote, invalid: msgNoteInvalid,
			run: func(ctx context.Context, l *core.Ledger, st *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.AddNote(ctx, n, st.ID, b.Text)
			}},
		{step: core.StepUrge, invalid: msgUrgeInvalid,
			run: func(ctx context.Context, l *core.Ledger, st *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Urge(ctx, n, st.ID, b.Text)
			}},
		{step: core.StepUrgent, invalid: msgUrgentInvalid,
			run: func(ctx context.Context, l *core.Ledger, st *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.MarkUrgent(ctx, n, st.ID, b.Reason)
			}},
		{step: core.StepMerge, invalid: msgMergeInvalid,
			run: func(ctx context.Context, l *core.Ledger, st *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				c, evs, err := l.Merge(ctx, n, b.Into, st.ID, b.Reason)
				if err == nil {
					s.noteJoined(ctx, c.MergedInto, append([]string{c.Resident}, c.Joined...))
				}
				return c, evs, err
			}},
	}
}

// noteJoined lists the survivor of a merge among the cases each resident of
// the merged case follows (their household file's), so their own pages
// show it. The merge stands without it: a failure is logged.
func (s *Server) noteJoined(ctx context.Context, into string, residents []string) {
	if s.Households == nil {
		return
	}
	for _, r := range residents {
		if r == "" || core.IsOfflineResident(r) {
			continue
		}
		if err := s.Households.NoteJoined(ctx, r, into, false); err != nil {
			s.log().ErrorContext(ctx, "console merge: note joined", "case", into, "err", err)
		}
	}
}

// deskView is what the case page shows of the desk's marks.
type deskView struct {
	Channel      core.Intake `json:"channel,omitempty"`
	ChannelLabel string      `json:"channel_label"`
	// (Urgent is on caseView.)
	// Contact is the name the resident gave staff, shown whole to those
	// who may read the resident's personal data, else its first character.
	Contact    string `json:"contact,omitempty"`
	Urges      int    `json:"urges,omitempty"`
	MergedInto string `json:"merged_into,omitempty"`
}

func newDeskView(town *core.Town, staff *core.Staff, c *core.Case) deskView {
	v := deskView{Channel: c.Channel, ChannelLabel: c.Channel.Label(), Urges: c.Urges,
		MergedInto: c.MergedInto, Contact: c.Contact}
	if c.Contact != "" && !town.SeesPersonalData(staff, c) {
		r, _ := utf8.DecodeRuneInString(c.Contact)
		v.Contact = string(r) + "**"
	}
	return v
}

// fileBody is a case staff file for a resident (代录).
type fileBody struct {
	Channel  string         `json:"channel"`
	Category string         `json:"category"`
	Grid     string         `json:"grid"`
	Text     string         `json:"text"`
	Phone    string         `json:"phone"`
	Contact  string         `json:"contact"`
	Address  string         `json:"address"`
	Location *core.Location `json:"location"`
	// Key makes a double click or a retry file one case.
	Key string `json:"key"`
}

// handleFileFor files a case for a resident who phoned or walked in: POST
// /api/cases, JSON, or multipart with photos (fileForWithPhotos). The
// resident is found by phone among the bound households; found, the case
// is theirs in WeChat and they are told.
func (s *Server) handleFileFor(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		s.fileForWithPhotos(w, r, staff)
		return
	}
	var b fileBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		} else {
			writeError(w, http.StatusBadRequest, msgBadRequest)
		}
		return
	}
	s.fileFor(w, r, staff, b, nil)
}

// fileFor files b with photos kept already, and answers; ok says whether
// the case was filed.
func (s *Server) fileFor(w http.ResponseWriter, r *http.Request, staff *core.Staff, b fileBody, photos []core.Media) (core.Case, bool) {
	f := core.ProxyFiling{Draft: core.Draft{Category: b.Category, Grid: b.Grid, Text: b.Text, Phone: b.Phone,
		Address: b.Address, Location: b.Location, Key: b.Key, Photos: photos}, Channel: core.Intake(b.Channel), Contact: b.Contact}
	if s.Households != nil && b.Phone != "" {
		hh, ok, err := s.Households.ByPhone(r.Context(), b.Phone)
		if err != nil {
			s.log().ErrorContext(r.Context(), "console file for: household", "staff", staff.ID, "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return core.Case{}, false
		}
		if ok {
			f.OpenID = hh.OpenID
		}
	}
	c, err := s.Ledger.FileFor(r.Context(), staff.ID, f)
	reason, refused := core.RefusalReason(err)
	switch {
	case err == nil:
	case errors.Is(err, core.ErrForbidden) && refused:
		writeError(w, http.StatusForbidden, reason)
		return core.Case{}, false
	case errors.Is(err, core.ErrInvalid):
		writeError(w, http.StatusBadRequest, msgFileInvalid)
		return core.Case{}, false
	default:
		s.log().ErrorContext(r.Context(), "console file for", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return core.Case{}, false
	}
	s.log().InfoContext(r.Context(), "console file for", "staff", staff.ID, "case", c.Number, "channel", string(c.Channel))
	writeJSON(w, http.StatusCreated, map[string]any{
		"case":  newCaseDetail(s.Town.Town(), staff, &c, s.now()),
		"bound": f.OpenID != "",
	})
	return c, true
}
