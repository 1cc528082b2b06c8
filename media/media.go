// Package media serves the photos and voice notes residents sent, kept with
// their cases (core.MediaStore), to the staff who may see those cases: GET
// /api/media/{id}. A staff member who may not see the case that holds the
// media gets 404, exactly as if it did not exist.
package media

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"gridbot/core"
)

// Cases finds a case; *core.Ledger satisfies it.
type Cases interface {
	Case(ctx context.Context, number string) (core.Case, error)
}

// Handler serves kept media to staff.
type Handler struct {
	Town  core.TownSource
	Cases Cases
	Media *core.MediaStore
	// Staff returns the staff member logged in on r (the console's
	// session), or nil when nobody is.
	Staff func(r *http.Request) (*core.Staff, error)
	Log   *slog.Logger
}

// Path is the route to mount the handler on.
const Path = "GET /api/media/{id}"

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// ServeHTTP answers GET /api/media/{id} with the file's bytes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, "不支持的请求")
		return
	}
	staff, err := h.Staff(r)
	if err != nil {
		h.log().ErrorContext(r.Context(), "media: session", "err", err)
		writeError(w, http.StatusInternalServerError, "服务暂时不可用")
		return
	}
	if staff == nil {
		writeError(w, http.StatusUnauthorized, "请先登录")
		return
	}
	id := r.PathValue("id")
	if id == "" {
		id = strings.TrimPrefix(r.URL.Path, "/api/media/")
	}
	f, ok, err := h.Media.Get(r.Context(), id)
	if err != nil {
		h.log().ErrorContext(r.Context(), "media: read", "err", err)
		writeError(w, http.StatusInternalServerError, "服务暂时不可用")
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "未找到该附件")
		return
	}
	c, err := h.Cases.Case(r.Context(), f.Case)
	if err != nil || !h.Town.Town().CanSee(staff, &c) {
		writeError(w, http.StatusNotFound, "未找到该附件")
		return
	}
	if _, held := c.Holds(id); !held {
		// Erased from the case (注销) but not yet from the store.
		writeError(w, http.StatusNotFound, "未找到该附件")
		return
	}
	ctype := f.ContentType
	if ctype == "" {
		ctype = http.DetectContentType(f.Data)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("Content-Disposition", "inline")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.Data)
}
