package wxpages

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// Words for a step whose input the ledger calls invalid.
const (
	msgTextBad   = "请填写内容，且不超过1000字。"
	msgResultBad = "请填写办理结果，且不超过1000字。"
	msgReasonBad = "请填写原因，且不超过1000字。"
	msgDeptBad   = "请选择要吹哨的部门。"
	msgScoreBad  = "请选择1到5分。"
	msgAddBad    = "请写下要补充的情况，或选一张照片。"
	msgChangeBad = "请写明理由；延期为1到22个工作日，挂起的恢复日期须在半年之内。"
	msgDecideBad = "不同意时请写明理由，且不超过1000字。"
)

// handleStep runs one step on the case in the path: a staff step through
// the ledger's policy for staff, a resident's step for residents. The
// answer is the case as the reader now reads it, or the refusal's words.
func (s *Server) handleStep(w http.ResponseWriter, r *http.Request, rd *reader) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	defer form.cleanup()
	c, ok := s.visible(w, r, rd)
	if !ok {
		return
	}
	ctx := r.Context()
	step := core.Step(r.PathValue("step"))
	var err error
	invalid := msgBadRequest
	switch step {
	case core.StepAccept, core.StepReply, core.StepResolve, core.StepWhistle, core.StepTransfer, core.StepSign, core.StepReturn,
		core.StepAskChange, core.StepDecide, core.StepResume:
		if !s.asStaff(rd, &c) {
			writeError(w, http.StatusForbidden, "工作人员才能进行“"+step.Label()+"”。")
			return
		}
		invalid, err = s.staffStep(ctx, rd.staff, c.Number, step, form)
	case core.StepRate:
		invalid = msgScoreBad
		score, convErr := strconv.Atoi(form.value("score"))
		if convErr != nil {
			score = 0
		}
		_, err = s.Ledger.RateCase(ctx, c.Number, rd.openid, score)
	case core.StepNotFixed:
		_, err = s.Ledger.NotFixedCase(ctx, c.Number, rd.openid)
	case core.StepSupplement:
		invalid = msgAddBad
		err = s.supplement(ctx, rd.openid, c.Number, form)
	default:
		writeError(w, http.StatusNotFound, "没有这项操作。")
		return
	}
	if err == errPhoto {
		writeError(w, http.StatusBadRequest, msgBadPhoto)
		return
	}
	if !s.answerLedger(ctx, w, err, invalid, string(step)) {
		return
	}
	who := "resident"
	if rd.staff != nil {
		who = rd.staff.ID
	}
	s.log().InfoContext(ctx, "wx pages: "+string(step), "case", c.Number, "by", who)
	c, err = s.Ledger.Case(ctx, c.Number)
	if err != nil {
		s.log().ErrorContext(ctx, "wx pages: reread case", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	if !s.mayRead(rd, &c) {
		// A step can take a case out of view (转B moves it to another
		// leader): say it went well, and that it is no longer theirs.
		writeJSON(w, http.StatusOK, map[string]any{"gone": true, "words": "已办理，这件事项已不在您的名下。"})
		return
	}
	s.writeCase(w, r, rd, &c)
}

// staffStep runs a staff step; it returns the words for input the ledger
// calls invalid, and the ledger's error.
func (s *Server) staffStep(ctx context.Context, staff *core.Staff, number string, step core.Step, f *form) (string, error) {
	l := s.Ledger
	switch step {
	case core.StepAccept:
		_, _, err := l.Accept(ctx, number, staff.ID)
		return msgBadRequest, err
	case core.StepReply:
		_, _, err := l.Reply(ctx, number, staff.ID, f.value("text"))
		return msgTextBad, err
	case core.StepResolve:
		if len(f.photos) == 0 {
			_, _, err := l.Resolve(ctx, number, staff.ID, f.value("result"))
			return msgResultBad, err
		}
		if len(f.photos) > 1 {
			return msgTooLarge, core.ErrInvalid
		}
		// The photo is kept first, under the case, so the resolved case
		// never names a photo that is not there; if the ledger refuses,
		// the photo goes again.
		m, err := s.keepPhoto(ctx, number, f.photos[0])
		if err != nil {
			return msgBadPhoto, err
		}
		_, _, err = l.ResolveWithPhoto(ctx, number, staff.ID, f.value("result"), m)
		if err != nil {
			s.dropPhoto(ctx, m.MediaID)
		}
		return msgResultBad, err
	case core.StepWhistle:
		_, _, err := l.Whistle(ctx, number, staff.ID, f.value("department"), f.value("reason"))
		return msgDeptBad, err
	case core.StepTransfer:
		_, _, err := l.Transfer(ctx, number, staff.ID)
		return msgBadRequest, err
	case core.StepSign:
		_, _, err := l.Sign(ctx, number, staff.ID)
		return msgBadRequest, err
	case core.StepReturn:
		_, _, err := l.Return(ctx, number, staff.ID, f.value("reason"))
		return msgReasonBad, err
	case core.StepAskChange:
		change, ok := s.termChange(f)
		if !ok {
			return msgChangeBad, core.ErrInvalid
		}
		_, _, err := l.AskChange(ctx, number, staff.ID, change)
		return msgChangeBad, err
	case core.StepDecide:
		approve := f.value("approve")
		if approve != "yes" && approve != "no" {
			return msgDecideBad, core.ErrInvalid
		}
		_, _, err := l.DecideChange(ctx, number, staff.ID, approve == "yes", f.value("note"))
		return msgDecideBad, err
	case core.StepResume:
		_, _, err := l.Resume(ctx, number, staff.ID)
		return msgBadRequest, err
	}
	return msgBadRequest, core.ErrInvalid
}

// termChange reads a request for more time (申请延期或挂起) from the form:
// change extend with days (working days), or pause with an optional date
// (in the town's zone) on which the clock restarts by itself. The ledger
// judges the bounds; this only reads.
func (s *Server) termChange(f *form) (core.TermChange, bool) {
	ch := core.TermChange{Kind: core.ChangeKind(f.value("change")), Reason: f.value("reason")}
	switch ch.Kind {
	case core.ChangeExtend:
		days, err := strconv.Atoi(strings.TrimSpace(f.value("days")))
		if err != nil {
			return ch, false
		}
		ch.Days = days
	case core.ChangePause:
		if until := strings.TrimSpace(f.value("until")); until != "" {
			day, err := time.ParseInLocation("2006-01-02", until, s.Town.Town().Zone())
			if err != nil {
				return ch, false
			}
			ch.Until = day
		}
	default:
		return ch, false
	}
	return ch, true
}

// supplement adds the resident's words and photos to their case (补充): one
// ledger step per photo, the words with the first.
func (s *Server) supplement(ctx context.Context, resident, number string, f *form) error {
	text := strings.TrimSpace(f.value("text"))
	if len(f.photos) == 0 {
		_, err := s.Ledger.Supplement(ctx, number, resident, core.Addition{Text: text})
		return err
	}
	for i, p := range f.photos {
		m, err := s.keepPhoto(ctx, number, p)
		if err != nil {
			return err
		}
		add := core.Addition{Photo: &m}
		if i == 0 {
			add.Text = text
		}
		if _, err := s.Ledger.Supplement(ctx, number, resident, add); err != nil {
			s.dropPhoto(ctx, m.MediaID)
			return err
		}
	}
	return nil
}
