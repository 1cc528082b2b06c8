package wxpages

import (
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// when is a time as people read it, in the town's zone.
func when(town *core.Town, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(town.Zone()).Format("1月2日 15:04")
}

// residentView is a case as its resident reads it: progress in plain words,
// the grid's name, never a staff member's own.
type residentView struct {
	Role       string      `json:"role"` // "resident"
	Number     string      `json:"number"`
	State      core.State  `json:"state"`
	StateLabel string      `json:"state_label"`
	Progress   string      `json:"progress"`
	Category   string      `json:"category"`
	Text       string      `json:"text"`
	Place      string      `json:"place"`
	Filed      string      `json:"filed"`
	Deadline   string      `json:"deadline,omitempty"`
	Result     string      `json:"result,omitempty"`
	Rating     int         `json:"rating,omitempty"`
	Photos     []string    `json:"photos"`
	Timeline   []lineView  `json:"timeline"`
	Joined     bool        `json:"joined"` // a resident who joined (附议), not the one who filed
	Can        residentCan `json:"can"`
	// Subscribe are the 订阅通知 templates the subscribe button asks for;
	// JSSDK says the page may show WeChat's button (wx-open-subscribe).
	Subscribe []string `json:"subscribe"`
	JSSDK     bool     `json:"jssdk"`
	CSRF      string   `json:"csrf"`
}

// residentCan is which of the resident's steps the policy allows now.
type residentCan struct {
	Rate       bool `json:"rate"`
	NotFixed   bool `json:"not_fixed"`
	Supplement bool `json:"supplement"`
}

// staffView is a case as a staff member reads it: what their role may see.
type staffView struct {
	Role         string         `json:"role"` // "staff"
	Staff        string         `json:"staff"`
	Number       string         `json:"number"`
	State        core.State     `json:"state"`
	StateLabel   string         `json:"state_label"`
	Category     string         `json:"category"`
	Text         string         `json:"text"`
	TextRead     string         `json:"text_read,omitempty"` // its simplified reading, where it differs
	Place        string         `json:"place"`
	Assignee     string         `json:"assignee,omitempty"`
	Post         core.Post      `json:"post,omitempty"`
	Filed        string         `json:"filed"`
	Deadline     string         `json:"deadline,omitempty"`
	Overdue      bool           `json:"overdue"`
	Phone        string         `json:"phone,omitempty"`
	PhoneVisible bool           `json:"phone_visible"`
	Address      string         `json:"address,omitempty"`
	Location     *core.Location `json:"location,omitempty"`
	Map          *gridMap       `json:"map,omitempty"`
	Result       string         `json:"result,omitempty"`
	Rating       int            `json:"rating,omitempty"`
	Joined       int            `json:"joined"`
	Photos       []string       `json:"photos"`
	Voices       []string       `json:"voices"`
	Departments  []string       `json:"departments"`
	Timeline     []lineView     `json:"timeline"`
	// Steps are the steps the policy allows this member now, as buttons.
	Steps []stepView `json:"steps"`
	// Whistle lists the departments that may be called (吹哨).
	Whistle []option `json:"whistle,omitempty"`
	// Pending is a request for more time waiting for a decision; Paused
	// says the case's clock is stopped (挂起), until ResumeAt when set.
	Pending  *pendingView `json:"pending,omitempty"`
	Paused   bool         `json:"paused"`
	ResumeAt string       `json:"resume_at,omitempty"`
	CSRF     string       `json:"csrf"`
}

// pendingView is a request for an extension or a pause as the one who
// decides reads it.
type pendingView struct {
	Kind   core.ChangeKind `json:"kind"`
	Words  string          `json:"words"` // 延期3个工作日, 挂起至12月20日, 挂起（恢复时另行通知）
	Reason string          `json:"reason"`
	By     string          `json:"by"`
	At     string          `json:"at"`
}

func newPendingView(town *core.Town, ch *core.TermChange) *pendingView {
	v := &pendingView{Kind: ch.Kind, Reason: ch.Reason, By: actorName(town, ch.By), At: when(town, ch.At)}
	switch {
	case ch.Kind == core.ChangeExtend:
		v.Words = "延期" + strconv.Itoa(ch.Days) + "个工作日"
	case !ch.Until.IsZero():
		v.Words = "挂起至" + ch.Until.In(town.Zone()).Format("1月2日")
	default:
		v.Words = "挂起（恢复时另行办理）"
	}
	return v
}

type stepView struct {
	Step  core.Step `json:"step"`
	Label string    `json:"label"`
}

type option struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// lineView is one line of a timeline.
type lineView struct {
	At    string `json:"at"`
	Words string `json:"words"`
	Photo string `json:"photo,omitempty"`
}

// pageSteps are the staff steps the page offers (reclassify and reopen stay
// on the console, where the directory lists are at hand).
var pageSteps = []core.Step{core.StepAccept, core.StepReply, core.StepResolve, core.StepWhistle,
	core.StepTransfer, core.StepSign, core.StepReturn, core.StepAskChange, core.StepDecide, core.StepResume}

func mediaURL(number, id string) string {
	return "/wx/api/media/" + number + "/" + id
}

func mediaURLs(number string, ms []core.Media) []string {
	out := []string{}
	for _, m := range ms {
		if m.MediaID != "" {
			out = append(out, mediaURL(number, m.MediaID))
		}
	}
	return out
}

// progressWords says where the case stands in a sentence a resident reads.
func progressWords(town *core.Town, c *core.Case) string {
	place := town.PlaceName(c.Grid)
	switch c.State {
	case core.StateSubmitted:
		return "我们已收到您反映的事项，正在交给" + place + "。"
	case core.StateAssigned:
		return "事项已交给" + place + "，等待网格受理。"
	case core.StateInProgress:
		return place + "正在办理，办结前会告诉您结果。"
	case core.StateResolved:
		return "事项已办结。请看办理结果并为本次办理评分；如果问题没有解决，请点“没解决”。"
	case core.StateClosed:
		return "事项已结案，谢谢您的反映。"
	case core.StateReopened:
		return "事项已重新交给" + place + "办理。"
	}
	return c.State.Label()
}

// residentLine says one event in a resident's words, or "" for events the
// resident is not told (deliveries, warnings, staff's inner steps).
func residentLine(town *core.Town, c *core.Case, e core.Event, joined bool) lineView {
	place := town.PlaceName(c.Grid)
	// A resident who joined reads the filer's steps as someone else's.
	you := "您"
	if joined {
		you = "居民"
	}
	l := lineView{At: when(town, e.At)}
	switch e.Kind {
	case core.EventSubmitted:
		l.Words = you + "提交了事项"
	case core.EventAssigned:
		l.Words = "已交给" + place
	case core.EventAccepted:
		l.Words = place + "已受理"
	case core.EventReplied:
		l.Words = place + "回复：" + e.Text
		if id := e.Data[core.DataMedia]; id != "" && holdsPhoto(c, id) {
			l.Photo = mediaURL(c.Number, id)
		}
	case core.EventWhistled:
		l.Words = "网格已请" + deptName(town, e.Data[core.DataDept]) + "协助办理"
	case core.EventSigned:
		l.Words = deptName(town, e.Data[core.DataDept]) + "已接手办理"
	case core.EventResolved:
		l.Words = "已办结：" + e.Text
		if id := e.Data[core.DataMedia]; id != "" && holdsPhoto(c, id) {
			l.Photo = mediaURL(c.Number, id)
		}
	case core.EventRated:
		if e.Data[core.DataJoined] == "true" {
			return lineView{}
		}
		l.Words = you + "评了" + e.Data[core.DataRating] + "分"
	case core.EventReopened:
		l.Words = "已重新办理"
	case core.EventClosed:
		l.Words = "已结案"
	case core.EventSupplemented:
		l.Words = you + "补充了情况"
		if e.Text != "" {
			l.Words += "：" + e.Text
		}
	case core.EventWithdrawn:
		l.Words = you + "撤回了事项"
	default:
		return lineView{}
	}
	return l
}

// staffLine says one event for staff, with who did it.
func staffLine(town *core.Town, c *core.Case, e core.Event) lineView {
	l := lineView{At: when(town, e.At), Words: e.Kind.Label()}
	if who := actorName(town, e.Actor); who != "" {
		l.Words = who + " · " + l.Words
	}
	switch {
	case e.Kind == core.EventAssigned || e.Kind == core.EventTransferred || e.Kind == core.EventReopened:
		if a := e.Data[core.DataAssignee]; a != "" {
			l.Words += " → " + actorName(town, a)
		}
	case e.Kind == core.EventWhistled || e.Kind == core.EventSigned || e.Kind == core.EventReturned:
		l.Words += " " + deptName(town, e.Data[core.DataDept])
	case e.Kind == core.EventRated:
		l.Words += " " + e.Data[core.DataRating] + "分"
	}
	if e.Kind == core.EventNoted {
		// An internal note is read as the console reads it: numbers in
		// it masked, whoever reads.
		l.Words += "（仅工作人员可见）：" + core.MaskNumbers(e.Text)
	} else if e.Text != "" {
		l.Words += "：" + e.Text
	}
	if id := e.Data[core.DataMedia]; id != "" && holdsPhoto(c, id) {
		l.Photo = mediaURL(c.Number, id)
	}
	return l
}

func holdsPhoto(c *core.Case, id string) bool {
	kind, ok := c.Holds(id)
	return ok && kind == core.MediaImage
}

func actorName(town *core.Town, actor string) string {
	switch actor {
	case core.ActorResident:
		return "居民"
	case core.ActorSystem, "":
		return "系统"
	}
	if s := town.StaffMember(actor); s != nil {
		return s.Name
	}
	return "工作人员"
}

func deptName(town *core.Town, id string) string {
	if d := town.Department(id); d != nil {
		return d.Name
	}
	return "部门"
}

func categoryName(town *core.Town, code string) string {
	if c := town.Category(code); c != nil {
		return c.Name
	}
	return code
}

func newResidentView(town *core.Town, rd *reader, c *core.Case, events []core.Event, subscribe []string) residentView {
	v := residentView{Role: "resident", Number: c.Number, State: c.State, StateLabel: c.State.Label(),
		Progress: progressWords(town, c), Category: categoryName(town, c.Category), Text: c.Text,
		Place: town.PlaceName(c.Grid), Filed: when(town, c.CreatedAt), Result: c.Result, Rating: c.Rating,
		Photos: mediaURLs(c.Number, c.Photos), Joined: c.Resident != rd.openid, CSRF: rd.csrf,
		Timeline: []lineView{}, Subscribe: append([]string{}, subscribe...)}
	if v.Joined {
		// What the other resident filed is theirs; a joiner sees the
		// photos staff sent, on the timeline.
		v.Photos = []string{}
	}
	if c.State.Open() {
		v.Deadline = when(town, c.Deadline)
	}
	for _, e := range events {
		if l := residentLine(town, c, e, v.Joined); l.Words != "" {
			v.Timeline = append(v.Timeline, l)
		}
	}
	v.Can = residentCan{
		Rate:       core.PermitResident(rd.openid, core.StepRate, c) == nil && !(v.Joined && ratedBy(events)),
		NotFixed:   core.PermitResident(rd.openid, core.StepNotFixed, c) == nil,
		Supplement: core.PermitResident(rd.openid, core.StepSupplement, c) == nil,
	}
	return v
}

// ratedBy reports whether a joined resident's rating is on the log already
// (the log does not name which joiner, so any counts; the ledger takes a
// second rating anyway, the page just does not offer it).
func ratedBy(events []core.Event) bool {
	return slices.ContainsFunc(events, func(e core.Event) bool {
		return e.Kind == core.EventRated && e.Data[core.DataJoined] == "true"
	})
}

func newStaffView(town *core.Town, rd *reader, c *core.Case, events []core.Event, now time.Time) staffView {
	v := staffView{Role: "staff", Staff: rd.staff.Name, Number: c.Number, State: c.State, StateLabel: c.State.Label(),
		Category: categoryName(town, c.Category), Text: core.MaskNumbers(c.Text), Place: town.PlaceName(c.Grid),
		Post: c.Post, Filed: when(town, c.CreatedAt), Result: c.Result, Rating: c.Rating, Joined: len(c.Joined),
		Photos: mediaURLs(c.Number, c.Photos), Voices: mediaURLs(c.Number, c.Voices), CSRF: rd.csrf,
		Timeline: []lineView{}, Departments: []string{}, Steps: []stepView{},
		Overdue: c.State.Open() && !c.Deadline.IsZero() && now.After(c.Deadline)}
	if c.Assignee != "" {
		v.Assignee = actorName(town, c.Assignee)
	}
	if c.State.Open() {
		v.Deadline = when(town, c.Deadline)
	}
	if c.Pending != nil {
		v.Pending = newPendingView(town, c.Pending)
	}
	if c.Paused {
		v.Paused, v.Overdue = true, false
		if !c.ResumeAt.IsZero() {
			v.ResumeAt = when(town, c.ResumeAt)
		}
	}
	// The phone, and phone and ID numbers in the description: whole to
	// whoever handles the case, masked to the rest — the policy's rule, as
	// on the console (core.Town.SeesPersonalData).
	if c.Phone != "" {
		v.Phone = core.MaskPhone(c.Phone)
	}
	if town.SeesPersonalData(rd.staff, c) {
		v.Phone, v.PhoneVisible, v.Location, v.Address = c.Phone, true, c.Location, c.Address
		v.Text = c.Text
	}
	v.Map = newGridMap(town.Grid(c.Grid), v.Location)
	for _, a := range c.Departments {
		words := deptName(town, a.Department)
		switch a.State {
		case core.AssistCalled:
			words += "（已吹哨，待领办）"
		case core.AssistSigned:
			words += "（已领办）"
		case core.AssistReturned:
			words += "（已退回：" + a.Reason + "）"
		}
		if a.Lead {
			words += " 牵头"
		}
		v.Departments = append(v.Departments, words)
	}
	for _, e := range events {
		v.Timeline = append(v.Timeline, staffLine(town, c, e))
	}
	allowed := town.Steps(rd.staff, c)
	for _, step := range pageSteps {
		if slices.Contains(allowed, step) {
			v.Steps = append(v.Steps, stepView{Step: step, Label: step.Label()})
		}
	}
	if slices.Contains(allowed, core.StepWhistle) {
		for _, d := range town.Departments {
			if a := c.Assist(d.ID); a == nil || a.State == core.AssistReturned {
				v.Whistle = append(v.Whistle, option{ID: d.ID, Name: d.Name})
			}
		}
	}
	return v
}

// gridMap is a grid's boundary drawn as an SVG path in a 100×100 box, and
// where the case is on it.
type gridMap struct {
	Path string  `json:"path"`
	Dot  *[2]int `json:"dot,omitempty"`
}

// newGridMap projects the grid's boundary (and the case's point, when the
// reader may see it) into a 100×100 box with a margin, keeping the shape's
// proportions: no tiles, nothing fetched from elsewhere.
func newGridMap(g *core.Grid, loc *core.Location) *gridMap {
	if g == nil || len(g.Boundary) < 3 {
		return nil
	}
	minLat, maxLat, minLng, maxLng := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	grow := func(p core.Point) {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLng, maxLng = math.Min(minLng, p.Lng), math.Max(maxLng, p.Lng)
	}
	for _, p := range g.Boundary {
		grow(p)
	}
	// A point far outside the grid would shrink the grid to a dot: only
	// one near it is drawn.
	var dot *core.Point
	if loc != nil {
		spanLat, spanLng := maxLat-minLat, maxLng-minLng
		if loc.Lat >= minLat-spanLat && loc.Lat <= maxLat+spanLat && loc.Lng >= minLng-spanLng && loc.Lng <= maxLng+spanLng {
			dot = &loc.Point
			grow(loc.Point)
		}
	}
	// Longitude degrees shrink with latitude.
	kx := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	w, h := (maxLng-minLng)*kx, maxLat-minLat
	scale := 90 / math.Max(math.Max(w, h), 1e-9)
	offX, offY := (100-w*scale)/2, (100-h*scale)/2
	project := func(p core.Point) (int, int) {
		return int(math.Round(offX + (p.Lng-minLng)*kx*scale)), int(math.Round(offY + (maxLat-p.Lat)*scale))
	}
	var b strings.Builder
	for i, p := range g.Boundary {
		x, y := project(p)
		if i == 0 {
			b.WriteString("M")
		} else {
			b.WriteString(" L")
		}
		b.WriteString(strconv.Itoa(x) + " " + strconv.Itoa(y))
	}
	b.WriteString(" Z")
	m := &gridMap{Path: b.String()}
	if dot != nil {
		x, y := project(*dot)
		m.Dot = &[2]int{x, y}
	}
	return m
}

// visible loads case number for rd: staff see what the policy lets them,
// residents the cases they filed or joined. Any other case answers
// exactly like one that does not exist (404 and the same words).
func (s *Server) visible(w http.ResponseWriter, r *http.Request, rd *reader) (core.Case, bool) {
	number := r.PathValue("number")
	if !caseNumberShape(number) {
		writeError(w, http.StatusNotFound, msgNotFound)
		return core.Case{}, false
	}
	c, err := s.Ledger.Case(r.Context(), number)
	if errors.Is(err, core.ErrNotFound) {
		writeError(w, http.StatusNotFound, msgNotFound)
		return core.Case{}, false
	}
	if err != nil {
		s.log().ErrorContext(r.Context(), "wx pages: read case", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return core.Case{}, false
	}
	if !s.mayRead(rd, &c) {
		writeError(w, http.StatusNotFound, msgNotFound)
		return core.Case{}, false
	}
	return c, true
}

// mayRead: staff who may see the case, or its own resident, or one who
// joined it.
func (s *Server) mayRead(rd *reader, c *core.Case) bool {
	if rd.staff != nil && s.Town.Town().CanSee(rd.staff, c) {
		return true
	}
	return rd.openid != "" && (c.Resident == rd.openid || slices.Contains(c.Joined, rd.openid))
}

// asStaff reports whether rd reads c as staff (a staff member who filed a
// case of their own and may not see it as staff reads it as its resident).
func (s *Server) asStaff(rd *reader, c *core.Case) bool {
	return rd.staff != nil && s.Town.Town().CanSee(rd.staff, c)
}

func (s *Server) handleCase(w http.ResponseWriter, r *http.Request, rd *reader) {
	c, ok := s.visible(w, r, rd)
	if !ok {
		return
	}
	s.writeCase(w, r, rd, &c)
}

// writeCase answers with the case as rd reads it.
func (s *Server) writeCase(w http.ResponseWriter, r *http.Request, rd *reader, c *core.Case) {
	events, err := s.Ledger.CaseEvents(r.Context(), c.Number)
	if err != nil {
		s.log().ErrorContext(r.Context(), "wx pages: read events", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	town := s.Town.Town()
	if s.asStaff(rd, c) {
		v := newStaffView(town, rd, c, events, s.now())
		if s.Simplify != nil {
			if read := s.Simplify(v.Text); read != v.Text {
				v.TextRead = read
			}
		}
		writeJSON(w, http.StatusOK, v)
		return
	}
	v := newResidentView(town, rd, c, events, s.SubscribeTemplates)
	v.JSSDK = s.JSSign != nil && s.JSSDKURL != "" && len(v.Subscribe) > 0
	writeJSON(w, http.StatusOK, v)
}
