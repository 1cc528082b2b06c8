package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"gridbot/core"
)

// Photos from the console: those a resident brought to the desk (代录) and
// the photo of the fix on 办结, shown to the resident with the result (the
// page inside WeChat shows it on the resolved line, and the result's push
// says it is there). They are kept as residents' are (core.MediaStore) and
// served by /api/media/{id} to staff who may see the case.

// Bounds of the console's photos.
const (
	maxDeskPhotos = 4 // with one filing; one with a result
	msgBadPhoto   = "照片须为 JPG、PNG、GIF 或 WebP，每张不超过2MB，最多4张"
	msgNoPhotos   = "照片功能未开启"
)

// photoTypes are the image types kept, by their bytes.
var photoTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// deskPhoto is an uploaded photo read into memory.
type deskPhoto struct {
	contentType string
	data        []byte
}

func (s *Server) maxPhotoBytes() int {
	if s.Media != nil && s.Media.MaxBytes > 0 {
		return s.Media.MaxBytes
	}
	return core.DefaultMaxMediaBytes
}

// bodyLimit is the bound of a request's body: MaxBodyBytes, or room for the
// photos on the two requests that carry them as multipart, or for a staff
// workbook.
func (s *Server) bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && r.URL.Path == "/api/staff/import" {
		return maxImportBytes + 64<<10
	}
	if s.Media != nil && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") &&
		r.Method == http.MethodPost && (r.URL.Path == "/api/cases" ||
		strings.HasPrefix(r.URL.Path, "/api/cases/") && strings.HasSuffix(r.URL.Path, "/resolve-photo")) {
		return MaxBodyBytes + int64(maxDeskPhotos*(s.maxPhotoBytes()+4<<10))
	}
	return MaxBodyBytes
}

// readPhotos reads a multipart body's fields and its "photo" files (at most
// max). It answers the client itself when it cannot; ok says whether to go
// on.
func (s *Server) readPhotos(w http.ResponseWriter, r *http.Request, max int) (map[string]string, []deskPhoto, bool) {
	if err := r.ParseMultipartForm(s.bodyLimit(r)); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		} else {
			writeError(w, http.StatusBadRequest, msgBadRequest)
		}
		return nil, nil, false
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	fields := map[string]string{}
	for k, v := range r.MultipartForm.Value {
		if len(v) != 1 || len(k) > 32 {
			writeError(w, http.StatusBadRequest, msgBadRequest)
			return nil, nil, false
		}
		fields[k] = v[0]
	}
	files := r.MultipartForm.File["photo"]
	if len(files) > max || len(r.MultipartForm.File) > 1 {
		writeError(w, http.StatusBadRequest, msgBadPhoto)
		return nil, nil, false
	}
	var photos []deskPhoto
	for _, fh := range files {
		p, ok := s.readPhoto(fh)
		if !ok {
			writeError(w, http.StatusBadRequest, msgBadPhoto)
			return nil, nil, false
		}
		photos = append(photos, p)
	}
	return fields, photos, true
}

func (s *Server) readPhoto(fh *multipart.FileHeader) (deskPhoto, bool) {
	if fh.Size <= 0 || fh.Size > int64(s.maxPhotoBytes()) {
		return deskPhoto{}, false
	}
	f, err := fh.Open()
	if err != nil {
		return deskPhoto{}, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(s.maxPhotoBytes())+1))
	if err != nil || len(data) > s.maxPhotoBytes() {
		return deskPhoto{}, false
	}
	ct := http.DetectContentType(data)
	if !slices.Contains(photoTypes, ct) {
		return deskPhoto{}, false
	}
	return deskPhoto{contentType: ct, data: data}, true
}

// newMediaID names a photo uploaded on the console, apart from WeChat's IDs.
func newMediaID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "console-" + hex.EncodeToString(b)
}

// keepPhotos stores photos under case (or "filing" before the case exists,
// which the router then leaves alone) and returns the case's references.
func (s *Server) keepPhotos(ctx context.Context, number string, photos []deskPhoto, ids []string) ([]core.Media, error) {
	var out []core.Media
	for i, p := range photos {
		id := newMediaID()
		if ids != nil {
			id = ids[i]
		}
		if err := s.Media.Put(ctx, core.MediaFile{ID: id, Case: number, Kind: core.MediaImage,
			ContentType: p.contentType, Data: p.data, At: s.now()}); err != nil {
			s.dropPhotos(ctx, out)
			return nil, err
		}
		out = append(out, core.Media{MediaID: id})
	}
	return out, nil
}

func (s *Server) dropPhotos(ctx context.Context, ms []core.Media) {
	for _, m := range ms {
		if err := s.Media.Delete(ctx, m.MediaID); err != nil {
			s.log().WarnContext(ctx, "console: drop photo", "err", err)
		}
	}
}

// fileForWithPhotos is 代录 with photos: multipart, the filing as JSON in
// the field "filing" and up to four "photo" files.
func (s *Server) fileForWithPhotos(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	if s.Media == nil {
		writeError(w, http.StatusBadRequest, msgNoPhotos)
		return
	}
	fields, photos, ok := s.readPhotos(w, r, maxDeskPhotos)
	if !ok {
		return
	}
	var b fileBody
	if err := json.Unmarshal([]byte(fields["filing"]), &b); err != nil {
		writeError(w, http.StatusBadRequest, msgBadRequest)
		return
	}
	ctx := r.Context()
	kept, err := s.keepPhotos(ctx, "filing", photos, nil)
	if err != nil {
		s.log().ErrorContext(ctx, "console file for: keep photos", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	c, filed := s.fileFor(w, r, staff, b, kept)
	if !filed {
		s.dropPhotos(ctx, kept)
		return
	}
	ids := make([]string, len(kept))
	for i, m := range kept {
		ids[i] = m.MediaID
	}
	for i, id := range ids {
		if _, held := c.Holds(id); !held {
			// A retry of a filing made already: its own photos are kept.
			s.dropPhotos(ctx, kept[i:i+1])
			continue
		}
		if _, err := s.keepPhotos(ctx, c.Number, photos[i:i+1], ids[i:i+1]); err != nil {
			s.log().ErrorContext(ctx, "console file for: keep photo", "case", c.Number, "err", err)
		}
	}
}

// handleResolvePhoto resolves a case with a photo of the fix: POST
// /api/cases/{number}/resolve-photo, multipart with "result" and one
// "photo". The step is 办结, under the same policy.
func (s *Server) handleResolvePhoto(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	if s.Media == nil {
		writeError(w, http.StatusBadRequest, msgNoPhotos)
		return
	}
	fields, photos, ok := s.readPhotos(w, r, 1)
	if !ok {
		return
	}
	if len(photos) != 1 {
		writeError(w, http.StatusBadRequest, msgBadPhoto)
		return
	}
	c, ok := s.visibleCase(w, r, staff)
	if !ok {
		return
	}
	ctx := r.Context()
	// Kept first, under the case, so the resolved case never names a
	// photo that is not there; if the ledger refuses, the photo goes.
	kept, err := s.keepPhotos(ctx, c.Number, photos, nil)
	if err != nil {
		s.log().ErrorContext(ctx, "console resolve: keep photo", "case", c.Number, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	var resolved bool
	s.writeLedger(w, r, staff, string(core.StepResolve), msgResultBad, func(ctx context.Context, number string) (core.Case, []core.Event, error) {
		c, evs, err := s.Ledger.ResolveWithPhoto(ctx, number, staff.ID, fields["result"], kept[0])
		resolved = err == nil
		return c, evs, err
	}, c.Number)
	if !resolved {
		s.dropPhotos(ctx, kept)
	}
}
