package wxpages

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"gridbot/core"
)

// Words of the report form.
const (
	msgNoCategory = "请选择事项类别。"
	msgNoText     = "请写下要反映的情况，不超过1000字。"
	msgNoPlace    = "请允许获取位置，或选择村（社区）和网格。"
	msgOutside    = "您的位置不在本镇的网格内，请选择村（社区）和网格。"
	msgBadPhone   = "手机号应为11位数字。"
	msgBadKey     = "页面已过期，请刷新后再提交。"
)

type villageOption struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Grids []option `json:"grids"`
}

// handleDirectory lists what the report form offers: the categories, the
// villages and their grids.
func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request, rd *reader) {
	town := s.Town.Town()
	cats := []option{}
	for _, c := range town.Categories {
		cats = append(cats, option{ID: c.Code, Name: c.Name})
	}
	villages := []villageOption{}
	for _, v := range town.Villages {
		vo := villageOption{ID: v.ID, Name: v.Name, Grids: []option{}}
		for _, g := range town.GridsOf(v.ID) {
			vo.Grids = append(vo.Grids, option{ID: g.ID, Name: g.Name})
		}
		villages = append(villages, vo)
	}
	writeJSON(w, http.StatusOK, map[string]any{"town": town.Name, "categories": cats, "villages": villages, "csrf": rd.csrf,
		"patrol": mayPatrol(rd)})
}

// handleReport files the form as a case (core.Ledger.Submit with the form's
// key, so a retry files nothing twice); the router assigns and tells the
// grid as for a case filed in the chat.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request, rd *reader) {
	f, ok := s.readForm(w, r)
	if !ok {
		return
	}
	defer f.cleanup()
	ctx := r.Context()
	town := s.Town.Town()
	d := core.Draft{Category: f.value("category"), Text: strings.TrimSpace(f.value("text")),
		Phone: strings.TrimSpace(f.value("phone"))}
	key := f.value("key")
	if key == "" || len(key) > 40 || !caseNumberShape(strings.ReplaceAll(key, "-", "")) {
		writeError(w, http.StatusBadRequest, msgBadKey)
		return
	}
	d.Key = "page-" + key
	if town.Category(d.Category) == nil {
		writeError(w, http.StatusBadRequest, msgNoCategory)
		return
	}
	if d.Text == "" || len([]rune(d.Text)) > core.MaxTextLen {
		writeError(w, http.StatusBadRequest, msgNoText)
		return
	}
	if d.Phone != "" && !phoneShape(d.Phone) {
		writeError(w, http.StatusBadRequest, msgBadPhone)
		return
	}
	// The place: the grid chosen from the lists, else the one the phone's
	// location falls in. The location is kept either way.
	lat, errLat := strconv.ParseFloat(f.value("lat"), 64)
	lng, errLng := strconv.ParseFloat(f.value("lng"), 64)
	located := errLat == nil && errLng == nil && lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 && (lat != 0 || lng != 0)
	if located {
		d.Location = &core.Location{Point: core.Point{Lat: lat, Lng: lng}, Label: "手机定位"}
	}
	if g := town.Grid(f.value("grid")); g != nil && (f.value("village") == "" || g.Village == f.value("village")) {
		d.Grid, d.Village = g.ID, g.Village
	} else if f.value("grid") != "" {
		writeError(w, http.StatusBadRequest, msgNoPlace)
		return
	} else if located {
		g, found := town.GridAt(d.Location.Point)
		if !found {
			writeError(w, http.StatusBadRequest, msgOutside)
			return
		}
		d.Grid, d.Village = g.ID, g.Village
	} else {
		writeError(w, http.StatusBadRequest, msgNoPlace)
		return
	}
	// Photos are kept before the case exists, under no case, so the
	// router, which fetches a new case's photos from WeChat unless they
	// are kept already, leaves them alone; once the case is filed they are
	// kept again under its number, the only one that serves them.
	var photos []photo
	for _, p := range f.photos {
		id := newMediaID()
		if err := s.Media.Put(ctx, core.MediaFile{ID: id, Case: "filing", Kind: core.MediaImage,
			ContentType: p.contentType, Data: p.data, At: s.now()}); err != nil {
			s.dropPhotos(ctx, d.Photos)
			s.log().ErrorContext(ctx, "wx pages: keep report photo", "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
		d.Photos = append(d.Photos, core.Media{MediaID: id})
		photos = append(photos, p)
	}
	c, err := s.fileReport(ctx, rd, f.value("origin"), d)
	if err != nil {
		s.dropPhotos(ctx, d.Photos)
	}
	if !s.answerLedger(ctx, w, err, msgNoText, "report") {
		return
	}
	for i, p := range photos {
		id := d.Photos[i].MediaID
		if _, held := c.Holds(id); !held {
			// A retry of a report filed already: its own photos are kept.
			s.dropPhoto(ctx, id)
			continue
		}
		if err := s.Media.Put(ctx, core.MediaFile{ID: id, Case: c.Number, Kind: core.MediaImage,
			ContentType: p.contentType, Data: p.data, At: s.now()}); err != nil {
			s.log().ErrorContext(ctx, "wx pages: keep report photo", "case", c.Number, "err", err)
		}
	}
	s.log().InfoContext(ctx, "wx pages: report", "case", c.Number)
	writeJSON(w, http.StatusOK, map[string]string{"number": c.Number, "url": "/wx/cases/" + c.Number})
}

// phoneShape: a mainland mobile number, 11 digits from 1.
func phoneShape(p string) bool {
	if len(p) != 11 || p[0] != '1' {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// dropPhotos erases photos kept for a report that was not filed.
func (s *Server) dropPhotos(ctx context.Context, ms []core.Media) {
	for _, m := range ms {
		s.dropPhoto(ctx, m.MediaID)
	}
}
