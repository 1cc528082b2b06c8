// Package open311 serves the town's cases over Open311 GeoReport v2, so other
// channels (a hotline, the city's 12345 platform) can read the category list
// and the cases' progress, and file cases into the same ledger and routing.
//
// Routes, all under /open311/v2/ (the GeoReport v2 method names and fields):
//
//	GET  services.json           the category list (事项准入清单) as services
//	GET  services/{code}.json    a service definition: every service has
//	                             metadata false, so its attributes are []
//	GET  requests.json           cases, newest first (filters below)
//	GET  requests/{id}.json      one case, as an array of one
//	POST requests.json           file a case (api_key required)
//
// Reads are open to anyone only when the town turns them on (PublicRead,
// open311.public_read); otherwise a GET needs an api_key too. A key goes in
// the form body (application/x-www-form-urlencoded, on a GET as on a POST),
// never in the URL, where proxies and logs keep it: a request with api_key
// in its query is refused with 400 whatever else it asks.
//
// Only the JSON format is served: a path ending in .xml answers 400 with a
// message saying so. jurisdiction_id is accepted and ignored by a town's
// Server; a city's endpoint (Jurisdictions) chooses the town by it. Errors are GeoReport errors, an array of one
// {"code": <HTTP status>, "description": "…"} with the matching HTTP status:
// 400 bad input, 403 a missing or unknown api_key, 404 an unknown service,
// request or path, 405 a wrong method, 413 a body over 64 KiB, 500 a fault
// on our side (described in general terms only; the detail goes to the log).
//
// GET requests.json takes service_request_id (a comma-separated list of case
// numbers, at most 100; it overrides every other filter), service_code and
// status (open or closed; both comma-separated lists), start_date and
// end_date (W3C datetimes, 2026-11-25T08:00:00+08:00, or a day, 2026-11-25,
// read in UTC+8; both bounds included), and page (from 1) and page_size
// (default 100, at most 200). Without dates the span is the last 90 days;
// with one date, 90 days from or to it. A listing is taken from the newest
// 5000 cases that match the status filter, a page at a time; when more
// follow, the answer carries a Link header with rel="next".
//
// Mapping of a case — what a city's open-data page may show, and no more:
// service_request_id is the case number; status is "closed" for a closed
// case and "open" otherwise; status_notes is the state in Chinese;
// description is the text staff published for the public (公开, with phone
// and ID numbers masked once more) or "" — never what the resident wrote,
// and never anything for a category marked never_publish (治安隐患,
// 矛盾纠纷); agency_responsible is the grid's place (村 · 网格) and the lead
// department (the whistled department leading on the case, else the
// category's); requested_datetime, updated_datetime and expected_datetime
// are the case's created_at, updated_at and deadline in RFC 3339 at
// +08:00; address is the grid's place and lat and long the centre of the
// grid (null for a grid without a boundary), never where the resident
// stood; address_id, zipcode and media_url are "".
//
// So no personal data leaves through the read endpoints: never the
// resident's words, openid, phone number, location or own description of the
// place, never a staff member's name or words to the resident, never a
// photo.
//
// POST requests.json takes the form fields api_key, service_code, lat, long
// and description (required; lat and long must fall inside one of the town's
// grids — address_string or address_id alone cannot be placed), and
// optionally address_string (kept on the case for staff, never published),
// phone (kept for staff, shown masked as the console does) and media_url (an
// http(s) link to a photo). first_name, last_name, email, device_id,
// account_id and attribute[…] are accepted and not stored. The case is filed
// through core.Ledger.Submit for the resident "open311:" + the channel the
// api_key belongs to, so it is numbered, assigned and pushed to the grid
// leader like any case from WeChat. The answer, 201 Created, is
// [{"service_request_id": "<case number>", "service_notice": "…"}].
package open311

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
	"gridbot/export"
)

// ResidentPrefix starts the resident of every case filed through Open311;
// the rest is the channel its api_key belongs to ("open311:hotline"). Such a
// resident has no WeChat to push to.
const ResidentPrefix = "open311:"

// Limits of the API.
const (
	defaultPageSize = 100                 // requests in one answer, unless asked
	maxPageSize     = 200                 // requests in one answer at most
	maxListed       = 5000                // requests before the page asked for, at most
	listChunk       = 200                 // cases a listing reads from the store at a time
	maxIDs          = 100                 // service_request_id values in one listing
	maxCodes        = 20                  // service_code values in one listing
	defaultSpan     = 90 * 24 * time.Hour // the span when dates are not given
	maxBody         = 64 << 10            // bytes of a POST body
	maxAddressLen   = 200                 // runes of address_string kept
	maxMediaURLLen  = 2000
)

// Server is the Open311 GeoReport v2 endpoint of one town.
type Server struct {
	Town   core.TownSource
	Store  core.CaseStore
	Ledger *core.Ledger
	// APIKeys maps each key allowed to POST to its channel's name (e.g.
	// "hotline"); with none, every POST answers 403.
	APIKeys map[string]string
	// PublicRead lets anyone read (services and requests); otherwise a
	// read needs one of the APIKeys too.
	PublicRead bool
	Log        *slog.Logger
	// Now is the clock for the default date span; nil means time.Now.
	Now func() time.Time
}

// Handler serves the API under /open311/v2/; mount it there.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /open311/v2/services.json", s.services)
	mux.HandleFunc("GET /open311/v2/services/{file}", s.serviceDefinition)
	mux.HandleFunc("GET /open311/v2/requests.json", s.requests)
	mux.HandleFunc("POST /open311/v2/requests.json", s.postRequest)
	mux.HandleFunc("GET /open311/v2/requests/{file}", s.request)
	mux.HandleFunc("/open311/v2/", s.unknown)
	return s.guard(mux)
}

// guard refuses a key in the URL, and a read without a key unless reads are
// public, before any route answers.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("api_key") {
			s.log().WarnContext(r.Context(), "open311 api_key sent in the URL; refused", "path", r.URL.Path)
			writeError(w, http.StatusBadRequest, "api_key belongs in the form body, never in the URL; "+
				"a key sent in a URL should be replaced / API 密钥只能放在请求体中，请更换已暴露的密钥")
			return
		}
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !s.PublicRead {
			key, ok := readKey(w, r)
			if !ok {
				return
			}
			if _, ok := s.channel(key); !ok {
				writeError(w, http.StatusForbidden, "reading needs an api_key in the form body / 需要 API 密钥")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// readKey reads api_key from the form body of a GET, answering 413 for a
// body over maxBody.
func readKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d KiB / 请求过大", maxBody>>10))
			return "", false
		}
		writeError(w, http.StatusBadRequest, "the body could not be read / 请求格式错误")
		return "", false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body is not a form (application/x-www-form-urlencoded) / 请求格式错误")
		return "", false
	}
	return form.Get("api_key"), true
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Service is one entry of services.json.
type Service struct {
	ServiceCode string `json:"service_code"`
	ServiceName string `json:"service_name"`
	Description string `json:"description"`
	Metadata    bool   `json:"metadata"`
	Type        string `json:"type"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
}

// ServiceDefinition is the answer of services/{code}.json.
type ServiceDefinition struct {
	ServiceCode string      `json:"service_code"`
	Attributes  []Attribute `json:"attributes"`
}

// Attribute is a question a service asks; no service asks any yet.
type Attribute struct {
	Variable            bool   `json:"variable"`
	Code                string `json:"code"`
	Datatype            string `json:"datatype"`
	Required            bool   `json:"required"`
	DatatypeDescription string `json:"datatype_description"`
	Order               int    `json:"order"`
	Description         string `json:"description"`
}

// ServiceRequest is one entry of requests.json.
type ServiceRequest struct {
	ServiceRequestID  string   `json:"service_request_id"`
	Status            string   `json:"status"`
	StatusNotes       string   `json:"status_notes"`
	ServiceName       string   `json:"service_name"`
	ServiceCode       string   `json:"service_code"`
	Description       string   `json:"description"`
	AgencyResponsible string   `json:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime"`
	Address           string   `json:"address"`
	AddressID         string   `json:"address_id"`
	Zipcode           string   `json:"zipcode"`
	Lat               *float64 `json:"lat"`
	Long              *float64 `json:"long"`
	MediaURL          string   `json:"media_url"`
}

// Receipt is the answer to a POST.
type Receipt struct {
	ServiceRequestID string `json:"service_request_id"`
	ServiceNotice    string `json:"service_notice"`
}

// apiError is a GeoReport error.
type apiError struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	town := s.Town.Town()
	out := make([]Service, 0, len(town.Categories))
	for _, c := range town.Categories {
		out = append(out, newService(town, c))
	}
	writeJSON(w, http.StatusOK, out)
}

func newService(town *core.Town, c core.Category) Service {
	svc := Service{ServiceCode: c.Code, ServiceName: c.Name, Metadata: false, Type: "realtime"}
	svc.Description = fmt.Sprintf("%s，办理时限 %d 小时", c.Name, c.DeadlineHours)
	if d := town.Department(c.Department); d != nil {
		svc.Group = d.Name
		svc.Description += "，牵头部门：" + d.Name
	}
	return svc
}

func (s *Server) serviceDefinition(w http.ResponseWriter, r *http.Request) {
	code, ok := jsonName(w, r.PathValue("file"))
	if !ok {
		return
	}
	if s.Town.Town().Category(code) == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("service_code %q is not in services.json / 没有这个服务类别", code))
		return
	}
	writeJSON(w, http.StatusOK, ServiceDefinition{ServiceCode: code, Attributes: []Attribute{}})
}

func (s *Server) request(w http.ResponseWriter, r *http.Request) {
	id, ok := jsonName(w, r.PathValue("file"))
	if !ok {
		return
	}
	c, err := s.Store.Case(r.Context(), id)
	if errors.Is(err, core.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("service_request_id %q not found / 未找到该案件", id))
		return
	}
	if err != nil {
		s.internalError(r.Context(), w, "open311: read a case", err)
		return
	}
	writeJSON(w, http.StatusOK, []ServiceRequest{NewServiceRequest(s.Town.Town(), c)})
}

// jsonName strips .json from the last path segment, answering 400 for .xml
// and 404 for anything else.
func jsonName(w http.ResponseWriter, file string) (string, bool) {
	if name, ok := strings.CutSuffix(file, ".json"); ok && name != "" {
		return name, true
	}
	if strings.HasSuffix(file, ".xml") {
		writeError(w, http.StatusBadRequest, "only the JSON format is served: use .json instead of .xml / 仅支持 JSON 格式")
		return "", false
	}
	writeError(w, http.StatusNotFound, "no such resource; paths end in .json / 没有这个资源")
	return "", false
}

// unknown answers whatever the routes above do not take.
func (s *Server) unknown(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/open311/v2/")
	if base, ok := strings.CutSuffix(rest, ".xml"); ok && (base == "services" || base == "requests" ||
		strings.HasPrefix(base, "services/") || strings.HasPrefix(base, "requests/")) {
		writeError(w, http.StatusBadRequest, "only the JSON format is served: use .json instead of .xml / 仅支持 JSON 格式")
		return
	}
	var allowed []string
	switch dir, file, nested := strings.Cut(rest, "/"); {
	case rest == "requests.json":
		allowed = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	case rest == "services.json",
		nested && (dir == "services" || dir == "requests") && file != "" && !strings.Contains(file, "/"):
		allowed = []string{http.MethodGet, http.MethodHead}
	}
	if len(allowed) > 0 && !slices.Contains(allowed, r.Method) {
		allow := strings.Join(allowed, ", ")
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed here; allowed: %s", r.Method, allow))
		return
	}
	writeError(w, http.StatusNotFound, "no such resource: see services.json and requests.json / 没有这个资源")
}

// NewServiceRequest maps a case to a GeoReport service request, leaving out
// every piece of personal data (see the package documentation).
func NewServiceRequest(town *core.Town, c core.Case) ServiceRequest {
	place := town.PlaceName(c.Grid)
	sr := ServiceRequest{
		ServiceRequestID:  c.Number,
		Status:            "open",
		StatusNotes:       c.State.Label(),
		ServiceName:       c.Category,
		ServiceCode:       c.Category,
		AgencyResponsible: place,
		RequestedDatetime: formatTime(c.CreatedAt),
		UpdatedDatetime:   formatTime(c.UpdatedAt),
		ExpectedDatetime:  formatTime(c.Deadline),
		Address:           place,
	}
	if c.State == core.StateClosed {
		sr.Status = "closed"
	}
	if cat := town.Category(c.Category); cat != nil {
		sr.ServiceName = cat.Name
	}
	if d := export.LeadDepartment(town, c); d != nil {
		sr.AgencyResponsible = strings.TrimPrefix(sr.AgencyResponsible+"、"+d.Name, "、")
	}
	if !c.Deadline.IsZero() && c.State.Open() {
		sr.ServiceNotice = "网格员办理中，办理时限 " + c.Deadline.In(townZone()).Format("2006-01-02 15:04")
	}
	if town.Publishable(&c) {
		sr.Description = core.MaskNumbers(c.Published)
	}
	if lat, lng, ok := gridCentre(town.Grid(c.Grid)); ok {
		sr.Lat, sr.Long = &lat, &lng
	}
	return sr
}

// gridCentre is the middle of a grid's boundary (the mean of its corners,
// rounded to about 10 m): the finest place Open311 shows.
func gridCentre(g *core.Grid) (lat, lng float64, ok bool) {
	if g == nil || len(g.Boundary) == 0 {
		return 0, 0, false
	}
	for _, p := range g.Boundary {
		lat += p.Lat
		lng += p.Lng
	}
	n := float64(len(g.Boundary))
	round := func(v float64) float64 { return math.Round(v*1e4) / 1e4 }
	return round(lat / n), round(lng / n), true
}

// listFilter is what GET requests.json asked for.
type listFilter struct {
	ids        []string
	codes      []string
	states     []core.State
	start, end time.Time
	page, size int
}

func (s *Server) requests(w http.ResponseWriter, r *http.Request) {
	f, msg := s.parseFilter(r.URL.Query())
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	cases, err := s.findCases(r.Context(), f, f.page*f.size+1)
	if err != nil {
		s.internalError(r.Context(), w, "open311: list cases", err)
		return
	}
	from := min((f.page-1)*f.size, len(cases))
	to := min(from+f.size, len(cases))
	if to < len(cases) {
		next := r.URL.Query()
		next.Set("page", strconv.Itoa(f.page+1))
		w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	cases = cases[from:to]
	town := s.Town.Town()
	out := make([]ServiceRequest, 0, len(cases))
	for _, c := range cases {
		out = append(out, NewServiceRequest(town, c))
	}
	writeJSON(w, http.StatusOK, out)
}

// parseFilter reads the query; msg describes the first bad parameter.
func (s *Server) parseFilter(q url.Values) (f listFilter, msg string) {
	f.ids = commaList(q, "service_request_id")
	if len(f.ids) > maxIDs {
		return f, fmt.Sprintf("service_request_id: at most %d ids at once / 一次最多查询 %d 个编号", maxIDs, maxIDs)
	}
	f.page, f.size = 1, defaultPageSize
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fmt.Sprintf("page %q: want a number from 1 / 页码错误", v)
		}
		f.page = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return f, fmt.Sprintf("page_size %q: want 1 to %d / 每页数量错误", v, maxPageSize)
		}
		f.size = n
	}
	if f.page > maxListed/f.size {
		return f, fmt.Sprintf("page %d: at most %d requests can be paged through; narrow start_date and end_date / 页码过大，请缩小日期范围", f.page, maxListed)
	}
	f.codes = commaList(q, "service_code")
	slices.Sort(f.codes)
	if f.codes = slices.Compact(f.codes); len(f.codes) > maxCodes {
		return f, fmt.Sprintf("service_code: at most %d codes at once / 一次最多查询 %d 个类别", maxCodes, maxCodes)
	}
	for _, st := range commaList(q, "status") {
		switch st {
		case "open":
			f.states = append(f.states, core.StateSubmitted, core.StateAssigned, core.StateInProgress,
				core.StateResolved, core.StateReopened)
		case "closed":
			f.states = append(f.states, core.StateClosed)
		default:
			return f, fmt.Sprintf("status %q: want open or closed / 状态只能是 open 或 closed", st)
		}
	}
	var hasStart, hasEnd bool
	var err error
	if v := q.Get("start_date"); v != "" {
		if f.start, err = parseW3C(v); err != nil {
			return f, fmt.Sprintf("start_date %q: want a W3C datetime such as 2026-11-25T08:00:00+08:00 / 日期格式错误", v)
		}
		hasStart = true
	}
	if v := q.Get("end_date"); v != "" {
		if f.end, err = parseW3C(v); err != nil {
			return f, fmt.Sprintf("end_date %q: want a W3C datetime such as 2026-11-25T08:00:00+08:00 / 日期格式错误", v)
		}
		hasEnd = true
	}
	switch {
	case !hasStart && !hasEnd:
		f.end = s.now()
		f.start = f.end.Add(-defaultSpan)
	case !hasEnd:
		f.end = f.start.Add(defaultSpan)
	case !hasStart:
		f.start = f.end.Add(-defaultSpan)
	}
	if f.end.Before(f.start) {
		return f, "end_date is before start_date / 结束时间早于开始时间"
	}
	return f, ""
}

// findCases answers a listing, newest first, at most want cases. A case
// number carries the town's day it was filed on, so the listing reads the
// ledger below the day after end_date and stops at the first case of a day
// before start_date, or once it has want. Each service code is read from
// its category's index and the codes merged newest first, so a filter that
// matches rarely never walks the cases it does not match: what a page
// costs follows the page and the span, never the ledger. The bounds are a
// day wider than the span on each side, so a clock in another zone cannot
// move a case out of them; the times are then compared exactly.
func (s *Server) findCases(ctx context.Context, f listFilter, want int) ([]core.Case, error) {
	if len(f.ids) > 0 {
		var out []core.Case
		seen := make(map[string]bool, len(f.ids))
		for _, id := range f.ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			c, err := s.Store.Case(ctx, id)
			if errors.Is(err, core.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("case %s: %w", id, err)
			}
			out = append(out, c)
		}
		slices.SortStableFunc(out, func(a, b core.Case) int { return b.CreatedAt.Compare(a.CreatedAt) })
		return out, nil
	}
	town := s.Town.Town()
	day := func(t time.Time, shift int) string {
		return town.CasePrefix + t.In(town.Zone()).AddDate(0, 0, shift).Format("20060102")
	}
	codes := f.codes
	if len(codes) == 0 {
		codes = []string{""} // every category
	}
	spans := make([]*spanReader, len(codes))
	for i, code := range codes {
		spans[i] = &spanReader{q: core.CaseQuery{States: f.states, Category: code,
			Before: day(f.end, 2)}, lower: day(f.start, -1)} // the day after end is below it; the day before start above
	}
	var out []core.Case
	for len(out) < want {
		var next *spanReader
		for _, r := range spans {
			if err := r.fill(ctx, s.Store, want-len(out)); err != nil {
				return nil, err
			}
			if len(r.buf) > 0 && (next == nil || r.buf[0].Number > next.buf[0].Number) {
				next = r
			}
		}
		if next == nil {
			break
		}
		c := next.buf[0]
		next.buf = next.buf[1:]
		if !c.CreatedAt.Before(f.start) && !c.CreatedAt.After(f.end) {
			out = append(out, c)
		}
	}
	return out, nil
}

// spanReader reads one category's cases of a listing's span (every
// category for ""), newest first, a chunk at a time.
type spanReader struct {
	q     core.CaseQuery
	lower string // the numbers at or below it are before the span
	buf   []core.Case
	done  bool
}

// fill reads the next chunk when the one read is used up: what the
// listing still wants, at least 20 and at most listChunk.
func (r *spanReader) fill(ctx context.Context, st core.CaseStore, wanted int) error {
	if len(r.buf) > 0 || r.done {
		return nil
	}
	r.q.Limit = min(max(wanted, 20), listChunk)
	chunk, err := st.Cases(ctx, r.q)
	if err != nil {
		return err
	}
	r.done = len(chunk) < r.q.Limit
	if len(chunk) > 0 {
		r.q.Before = chunk[len(chunk)-1].Number
	}
	if i := slices.IndexFunc(chunk, func(c core.Case) bool { return c.Number < r.lower }); i >= 0 {
		chunk, r.done = chunk[:i], true
	}
	r.buf = chunk
	return nil
}

// commaList reads a parameter that may be repeated and comma-separated.
func commaList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// parseW3C reads the W3C datetime profile of ISO 8601 at the precisions
// clients send; a bare day is midnight in UTC+8.
func parseW3C(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02", v, townZone())
}

func (s *Server) postRequest(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d KiB / 请求过大", maxBody>>10))
			return
		}
		writeError(w, http.StatusBadRequest, "the body is not a form (application/x-www-form-urlencoded or multipart/form-data) / 请求格式错误")
		return
	}
	channel, ok := s.channel(r.PostFormValue("api_key"))
	if !ok {
		writeError(w, http.StatusForbidden, "api_key is missing or not valid / API 密钥缺失或无效")
		return
	}
	town := s.Town.Town()
	draft, msg := parseDraft(town, r.PostForm)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	c, err := s.Ledger.Submit(r.Context(), ResidentPrefix+channel, draft)
	if errors.Is(err, core.ErrInvalid) {
		writeError(w, http.StatusBadRequest, "the request was refused: check service_code, the location and description / 请求无效")
		return
	}
	if err != nil {
		s.internalError(r.Context(), w, "open311: file a case", err)
		return
	}
	s.log().InfoContext(r.Context(), "open311 request filed", "case", c.Number, "channel", channel,
		"service_code", c.Category, "grid", c.Grid)
	notice := fmt.Sprintf("已受理，编号 %s，由 %s 办理，办理时限 %s", c.Number, town.PlaceName(c.Grid),
		c.Deadline.In(townZone()).Format("2006-01-02 15:04"))
	writeJSON(w, http.StatusCreated, []Receipt{{ServiceRequestID: c.Number, ServiceNotice: notice}})
}

// channel finds the channel of key, comparing in constant time.
func (s *Server) channel(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	found, ok := "", false
	for k, ch := range s.APIKeys {
		if k != "" && subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			found, ok = ch, true
		}
	}
	return found, ok
}

// parseDraft reads a POST's fields into a draft; msg describes the first bad
// field.
func parseDraft(town *core.Town, form url.Values) (d core.Draft, msg string) {
	code := strings.TrimSpace(form.Get("service_code"))
	if code == "" {
		return d, "service_code is required / 缺少服务类别"
	}
	if town.Category(code) == nil {
		return d, fmt.Sprintf("service_code %q is not in services.json / 没有这个服务类别", code)
	}
	d.Category = code
	latText, longText := strings.TrimSpace(form.Get("lat")), strings.TrimSpace(form.Get("long"))
	if latText == "" || longText == "" {
		return d, "a location is required: lat and long (WGS-84); address_string or address_id alone cannot be placed in a grid / 需要提供经纬度"
	}
	lat, errLat := strconv.ParseFloat(latText, 64)
	lng, errLng := strconv.ParseFloat(longText, 64)
	if errLat != nil || errLng != nil || !finite(lat) || !finite(lng) || math.Abs(lat) > 90 || math.Abs(lng) > 180 {
		return d, "lat and long must be WGS-84 degrees (-90..90, -180..180) / 经纬度格式错误"
	}
	p := core.Point{Lat: lat, Lng: lng}
	g, ok := town.GridAt(p)
	if !ok {
		return d, fmt.Sprintf("the location %.6f,%.6f is outside every grid of %s / 该位置不在本镇网格范围内", lat, lng, town.Name)
	}
	d.Grid, d.Village = g.ID, g.Village
	d.Location = &core.Location{Point: p, Label: truncate(strings.TrimSpace(form.Get("address_string")), maxAddressLen)}
	d.Text = strings.TrimSpace(form.Get("description"))
	if d.Text == "" {
		return d, "description is required / 缺少问题描述"
	}
	if n := len([]rune(d.Text)); n > core.MaxTextLen {
		return d, fmt.Sprintf("description is %d characters; at most %d / 描述过长", n, core.MaxTextLen)
	}
	if v := strings.TrimSpace(form.Get("phone")); v != "" {
		phone, ok := parsePhone(v)
		if !ok {
			return d, "phone must be a phone number (7 to 15 digits) / 电话号码格式错误"
		}
		d.Phone = phone
	}
	if v := strings.TrimSpace(form.Get("media_url")); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > maxMediaURLLen {
			return d, "media_url must be an http(s) URL / 图片链接格式错误"
		}
		d.Photos = []core.Media{{URL: u.String()}}
	}
	return d, ""
}

// parsePhone keeps the digits of a phone number written with spaces,
// dashes, brackets or a leading +.
func parsePhone(v string) (string, bool) {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		case r == '+' && i == 0:
		default:
			return "", false
		}
	}
	n := b.Len()
	return b.String(), n >= 7 && n <= 15
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// townZone is the zone every time is written in (UTC+8).
func townZone() *time.Location { return time.FixedZone("CST", 8*3600) }

// formatTime writes t as RFC 3339 in UTC+8, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(townZone()).Format(time.RFC3339)
}

func (s *Server) internalError(ctx context.Context, w http.ResponseWriter, what string, err error) {
	s.log().ErrorContext(ctx, what, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error, please retry later / 服务暂时不可用，请稍后再试")
}

func writeError(w http.ResponseWriter, status int, description string) {
	writeJSON(w, status, []apiError{{Code: status, Description: description}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
