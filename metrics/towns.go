package metrics

import (
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// HandlerWithTowns serves m's metrics and, in the same scrape, each town's
// with a label town="<key>": a city deployment (several towns in one
// process) is one scrape target, as one process is one target. The Go and
// process collectors of a town's registry are the same process's and are
// left to m's.
func (m *Metrics) HandlerWithTowns(towns map[string]*Metrics) http.Handler {
	keys := make([]string, 0, len(towns))
	for k := range towns {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	gs := prometheus.Gatherers{m.registry}
	for _, k := range keys {
		gs = append(gs, townGatherer{g: towns[k].registry, town: k})
	}
	return promhttp.HandlerFor(gs, promhttp.HandlerOpts{})
}

// townGatherer is one town's registry with its town label.
type townGatherer struct {
	g    prometheus.Gatherer
	town string
}

func (t townGatherer) Gather() ([]*dto.MetricFamily, error) {
	fams, err := t.g.Gather()
	if err != nil {
		return nil, err
	}
	name, value := "town", t.town
	out := fams[:0]
	for _, f := range fams {
		if n := f.GetName(); strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_") {
			continue
		}
		for _, mt := range f.Metric {
			// Label pairs go out sorted by name, as a registry gathers them.
			mt.Label = append(mt.Label, &dto.LabelPair{Name: &name, Value: &value})
			sort.Slice(mt.Label, func(i, j int) bool { return mt.Label[i].GetName() < mt.Label[j].GetName() })
		}
		out = append(out, f)
	}
	return out, nil
}
