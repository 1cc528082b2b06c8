package open311

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Jurisdictions serves several towns' Open311 at one endpoint (a city
// deployment): jurisdiction_id, GeoReport v2's own parameter for an
// endpoint serving several jurisdictions, chooses the town, from the query
// or the form body. Each town's handler then answers as it alone would,
// with its own API keys, so a key of one town opens no other. With several
// towns a request naming none is refused (400) with the list of IDs; with
// one, it may be left out.
type Jurisdictions struct {
	// IDs are the jurisdictions in the order the error lists them;
	// Handlers serve each (a town's Server.Handler).
	IDs      []string
	Handlers map[string]http.Handler
}

// Handler returns the dispatching handler, for /open311/v2/.
func (j *Jurisdictions) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := jurisdictionOf(w, r)
		if !ok {
			return
		}
		if id == "" && len(j.IDs) == 1 {
			id = j.IDs[0]
		}
		if id == "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("jurisdiction_id is required: one of %s / 请用 jurisdiction_id 指明镇",
				strings.Join(j.IDs, ", ")))
			return
		}
		h, ok := j.Handlers[id]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown jurisdiction_id; one of %s / 没有这个镇", strings.Join(j.IDs, ", ")))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// jurisdictionOf reads jurisdiction_id from the query, else from the form
// body (bounded, and put back for the town's handler to read). A query
// and a body that disagree are refused.
func jurisdictionOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the query could not be read / 请求格式错误")
		return "", false
	}
	id := q.Get("jurisdiction_id")
	if r.Body == nil || r.Body == http.NoBody {
		return id, true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d KiB / 请求过大", maxBody>>10))
			return "", false
		}
		writeError(w, http.StatusBadRequest, "the body could not be read / 请求格式错误")
		return "", false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var inBody string
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		peek := r.Clone(r.Context())
		peek.Body = io.NopCloser(bytes.NewReader(body))
		if err := peek.ParseMultipartForm(maxBody); err == nil && peek.MultipartForm != nil {
			if v := peek.MultipartForm.Value["jurisdiction_id"]; len(v) > 0 {
				inBody = v[0]
			}
			peek.MultipartForm.RemoveAll()
		}
	} else if form, err := url.ParseQuery(string(body)); err == nil {
		inBody = form.Get("jurisdiction_id")
	}
	if id != "" && inBody != "" && id != inBody {
		writeError(w, http.StatusBadRequest, "jurisdiction_id differs between the query and the body / jurisdiction_id 不一致")
		return "", false
	}
	if id == "" {
		id = inBody
	}
	return id, true
}
