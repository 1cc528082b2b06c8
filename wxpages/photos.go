package wxpages

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"gridbot/core"
)

// errPhoto means an uploaded file is not a photo the pages take.
var errPhoto = fmt.Errorf("wx pages: not a photo: %w", core.ErrInvalid)

// photoTypes are the image types kept (by their bytes, not by what the
// browser claims).
var photoTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// photo is an uploaded photo read into memory.
type photo struct {
	contentType string
	data        []byte
}

// form is a step's or a report's fields and photos.
type form struct {
	values map[string][]string
	photos []photo
	mf     *multipart.Form
}

func (f *form) value(k string) string {
	if v := f.values[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (f *form) cleanup() {
	if f.mf != nil {
		_ = f.mf.RemoveAll()
	}
}

func (s *Server) maxPhotoBytes() int {
	if s.Media != nil && s.Media.MaxBytes > 0 {
		return s.Media.MaxBytes
	}
	return core.DefaultMaxMediaBytes
}

// readForm reads a multipart (or url-encoded) body within bounds: the
// whole body, each photo's size and their number. It answers the client
// itself when it cannot; ok says whether to go on.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (*form, bool) {
	limit := int64(maxFormBytes + MaxPhotos*(s.maxPhotoBytes()+4<<10))
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	f := &form{}
	ct := r.Header.Get("Content-Type")
	var err error
	if strings.HasPrefix(ct, "multipart/form-data") {
		// Everything stays in memory: the body is bounded above.
		err = r.ParseMultipartForm(limit)
		if err == nil {
			f.mf = r.MultipartForm
			f.values = r.MultipartForm.Value
		}
	} else {
		err = r.ParseForm()
		f.values = r.PostForm
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		} else {
			writeError(w, http.StatusBadRequest, msgBadRequest)
		}
		return nil, false
	}
	for k, v := range f.values {
		if len(v) > 1 || len(k) > 32 {
			writeError(w, http.StatusBadRequest, msgBadRequest)
			f.cleanup()
			return nil, false
		}
	}
	if f.mf != nil {
		files := f.mf.File["photo"]
		if len(files) > MaxPhotos || len(f.mf.File) > 1 {
			f.cleanup()
			writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
			return nil, false
		}
		for _, fh := range files {
			p, err := s.readPhoto(fh)
			if err != nil {
				f.cleanup()
				if errors.Is(err, errPhoto) {
					writeError(w, http.StatusBadRequest, msgBadPhoto)
				} else {
					writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
				}
				return nil, false
			}
			f.photos = append(f.photos, p)
		}
	}
	return f, true
}

var errPhotoSize = errors.New("wx pages: photo too large")

func (s *Server) readPhoto(fh *multipart.FileHeader) (photo, error) {
	if fh.Size <= 0 || fh.Size > int64(s.maxPhotoBytes()) {
		return photo{}, errPhotoSize
	}
	file, err := fh.Open()
	if err != nil {
		return photo{}, errPhoto
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, int64(s.maxPhotoBytes())+1))
	if err != nil || len(data) > s.maxPhotoBytes() {
		return photo{}, errPhotoSize
	}
	ct := http.DetectContentType(data)
	if !slices.Contains(photoTypes, ct) {
		return photo{}, errPhoto
	}
	return photo{contentType: ct, data: data}, nil
}

// newMediaID names a photo uploaded on a page, apart from WeChat's IDs.
func newMediaID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "wxpage-" + hex.EncodeToString(b)
}

// keepPhoto stores p with case number, as photos fetched from WeChat are
// kept (core.MediaStore), and returns the case's reference to it.
func (s *Server) keepPhoto(ctx context.Context, number string, p photo) (core.Media, error) {
	id := newMediaID()
	err := s.Media.Put(ctx, core.MediaFile{ID: id, Case: number, Kind: core.MediaImage,
		ContentType: p.contentType, Data: p.data, At: s.now()})
	if err != nil {
		return core.Media{}, fmt.Errorf("keep photo: %w", err)
	}
	return core.Media{MediaID: id}, nil
}

// dropPhoto erases a photo kept for a step the ledger refused.
func (s *Server) dropPhoto(ctx context.Context, id string) {
	if err := s.Media.Delete(ctx, id); err != nil {
		s.log().WarnContext(ctx, "wx pages: drop photo", "err", err)
	}
}

// handleMedia serves a photo or voice note of a case to a reader who may
// read it: staff who may see the case; its own resident; a resident who
// joined it, the photos staff sent (a reply's, the fix's) and nothing the
// other resident filed.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request, rd *reader) {
	c, ok := s.visible(w, r, rd)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, held := c.Holds(id); !held || !s.mayOpenMedia(r.Context(), rd, &c, id) {
		writeError(w, http.StatusNotFound, "没有找到这个附件。")
		return
	}
	f, found, err := s.Media.Get(r.Context(), id)
	if err != nil {
		s.log().ErrorContext(r.Context(), "wx pages: read media", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	if !found || f.Case != c.Number {
		writeError(w, http.StatusNotFound, "附件还在保存中，请稍后再看。")
		return
	}
	ctype := f.ContentType
	if ctype == "" {
		ctype = http.DetectContentType(f.Data)
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Disposition", "inline")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write(f.Data)
}

func (s *Server) mayOpenMedia(ctx context.Context, rd *reader, c *core.Case, id string) bool {
	if s.asStaff(rd, c) || c.Resident == rd.openid {
		return true
	}
	events, err := s.Ledger.CaseEvents(ctx, c.Number)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(events, func(e core.Event) bool {
		return (e.Kind == core.EventReplied || e.Kind == core.EventResolved) && e.Data[core.DataMedia] == id
	})
}
