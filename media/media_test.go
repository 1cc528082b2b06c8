package media_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/media"
	"gridbot/store/embedded"
)

// Staff who may see the case get the file; others get 404 as if it did not
// exist; nobody logged in gets 401.
func TestServeMedia(t *testing.T) {
	ctx := context.Background()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := &core.Ledger{Store: st, Town: town}
	c, err := l.Submit(ctx, "ores", core.Draft{Category: "env", Text: "水渠堵了", Grid: "L10",
		Photos: []core.Media{{MediaID: "p1"}}})
	if err != nil {
		t.Fatal(err)
	}
	store := &core.MediaStore{Records: st}
	for _, f := range []core.MediaFile{
		{ID: "p1", Case: c.Number, Kind: core.MediaImage, ContentType: "image/png", Data: []byte("\x89PNG fake")},
		{ID: "p-orphan", Case: c.Number, Kind: core.MediaImage, ContentType: "image/png", Data: []byte("x")},
	} {
		if err := store.Put(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	g := town.Grid("L10")
	var other string
	for _, gr := range town.Grids {
		if gr.LeaderA != g.LeaderA && gr.LeaderB != g.LeaderA && gr.LeaderA != g.LeaderB && gr.LeaderB != g.LeaderB {
			other = gr.LeaderA
			break
		}
	}
	for _, tt := range []struct {
		name, staff, id string
		status          int
	}{
		{"the grid's leader", g.LeaderA, "p1", http.StatusOK},
		{"another grid's leader", other, "p1", http.StatusNotFound},
		{"unknown media", g.LeaderA, "p404", http.StatusNotFound},
		{"media no longer on the case", g.LeaderA, "p-orphan", http.StatusNotFound},
		{"nobody logged in", "", "p1", http.StatusUnauthorized},
	} {
		h := &media.Handler{Town: town, Cases: l, Media: store, Staff: func(*http.Request) (*core.Staff, error) {
			return town.StaffMember(tt.staff), nil
		}}
		mux := http.NewServeMux()
		mux.Handle(media.Path, h)
		rr := httptest.NewRecorder()
		mux.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/api/media/"+tt.id, nil))
		if rr.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rr.Code, tt.status)
		}
		if tt.status == http.StatusOK && (rr.Body.String() != "\x89PNG fake" || rr.Header().Get("Content-Type") != "image/png" ||
			rr.Header().Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("%s: body %q headers %v", tt.name, rr.Body.String(), rr.Header())
		}
	}
}
