package console

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/ledgerfill"
	"gridbot/store/embedded"
)

// BenchmarkFiguresPages measures what the map, the figures page's charts
// and the Excel downloads cost the server over the sample town with a
// filled ledger (BENCH_CASES cases over two years, default 5,000), as the
// town's staff see it.
//
//	go test -run '^$' -bench FiguresPages -benchtime 5x ./console/
func BenchmarkFiguresPages(b *testing.B) {
	cases := 5000
	if n, err := strconv.Atoi(os.Getenv("BENCH_CASES")); err == nil && n > 0 {
		cases = n
	}
	town, err := configs.LoadTown("../configs/town.yaml", "../configs/categories.yaml")
	if err != nil {
		b.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(b.TempDir(), "bench.db"), embedded.Options{CasePrefix: town.CasePrefix, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, town.Zone())
	ledger := &core.Ledger{Store: st, Town: town}
	if _, err := ledgerfill.Fill(context.Background(), ledger, ledgerfill.Options{Cases: cases, Years: 2, End: end, Seed: 7, Workers: 1}); err != nil {
		b.Fatal(err)
	}
	s := &Server{Town: town, Store: st, Ledger: ledger, Sessions: st, Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return end }}
	var staff *core.Staff
	for i := range town.Staff {
		if town.Staff[i].Role == core.RoleTown {
			staff = &town.Staff[i]
			break
		}
	}
	if staff == nil {
		b.Fatal("the sample town has no town staff")
	}
	for _, p := range []struct {
		name, path string
		h          func(http.ResponseWriter, *http.Request, *core.Staff)
	}{
		{"map", "/api/map", s.handleMap},
		{"charts", "/api/figures/charts", s.handleCharts},
		{"rates", "/api/figures/rates?by=grid", s.handleRates},
		{"gridwork", "/api/figures/gridwork?by=grid", s.handleGridWork},
		{"figures.xlsx", "/api/figures.xlsx?month=2026-11", s.handleFiguresXLSX},
		{"cases.xlsx", "/api/cases.xlsx?state=", s.handleCasesXLSX},
	} {
		b.Run(p.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				w := httptest.NewRecorder()
				p.h(w, httptest.NewRequest(http.MethodGet, p.path, nil), staff)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.path, w.Code, w.Body.String())
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}
