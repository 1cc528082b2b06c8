// Package metrics is gridbot's Prometheus instrumentation: one registry per
// process (no global state), the collectors behind /metrics, and small
// methods the other parts call. Every metric is documented in the README.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gridbot/core"
)

// Metrics holds the collectors. A nil *Metrics is valid and records nothing,
// so parts built without metrics (tests) need no stand-in.
type Metrics struct {
	registry     *prometheus.Registry
	callbacks    *prometheus.CounterVec
	replySeconds prometheus.Histogram
	dialogs      *prometheus.CounterVec
	pushes       *prometheus.CounterVec
	handlerTime  *prometheus.HistogramVec
	retries      prometheus.Counter
	storeErrors  prometheus.Counter
	// WeCom's app and group robots (weCom.go).
	weComCallbacks    *prometheus.CounterVec
	weComReplySeconds prometheus.Histogram
	robotPosts        *prometheus.CounterVec
}

// Sources are read when /metrics is scraped.
type Sources struct {
	// WebsocketClients counts the console connections of this instance.
	WebsocketClients func() int
	// Cases lists cases to count by state; bounded by the scrape's timeout.
	Cases core.CaseStore
}

// New builds the collectors and registers them with the Go and process
// collectors on a registry of their own.
func New(src Sources) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbot_callbacks_total",
			Help: "WeChat callbacks by message type and outcome.",
		}, []string{"type", "outcome"}),
		replySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gridbot_reply_seconds",
			Help:    "Time to answer a WeChat callback.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		dialogs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbot_dialogs_total",
			Help: "Resident intake dialogs by outcome: started, finished (a case filed), abandoned (cancelled or expired).",
		}, []string{"outcome"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbot_pushes_total",
			Help: "Pushes by channel (custom, template, subscribe: WeChat; wecom: the WeCom app), outcome and the channel's error code (0 when delivered).",
		}, []string{"channel", "outcome", "errcode"}),
		handlerTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gridbot_router_handler_seconds",
			Help:    "Router handler runs by handler and outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"handler", "outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gridbot_router_retries_total",
			Help: "Router handler runs retried after an error.",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gridbot_store_unreachable_total",
			Help: "Health probes (every few seconds, and /readyz) that found the store or its Valkey server unreachable.",
		}),
	}
	m.addWeCom()
	m.registry.MustRegister(m.callbacks, m.replySeconds, m.dialogs, m.pushes, m.handlerTime, m.retries, m.storeErrors,
		m.weComCallbacks, m.weComReplySeconds, m.robotPosts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.WebsocketClients != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gridbot_websocket_clients",
			Help: "Console websocket connections open on this instance.",
		}, func() float64 { return float64(src.WebsocketClients()) }))
	}
	if src.Cases != nil {
		m.registry.MustRegister(&caseStates{store: src.Cases})
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Callback records one WeChat callback.
func (m *Metrics) Callback(kind, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.callbacks.WithLabelValues(kind, outcome).Inc()
	m.replySeconds.Observe(took.Seconds())
}

// Dialog records a dialog starting, finishing or being abandoned.
func (m *Metrics) Dialog(outcome string) {
	if m == nil {
		return
	}
	m.dialogs.WithLabelValues(outcome).Inc()
}

// Push records one push and its outcome.
func (m *Metrics) Push(channel, outcome string, errcode int) {
	if m == nil {
		return
	}
	m.pushes.WithLabelValues(channel, outcome, strconv.Itoa(errcode)).Inc()
}

// Handled records one router handler run.
func (m *Metrics) Handled(handler string, took time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.handlerTime.WithLabelValues(handler, outcome).Observe(took.Seconds())
}

// Retried records a handler run retried after an error.
func (m *Metrics) Retried() {
	if m == nil {
		return
	}
	m.retries.Inc()
}

// StoreUnreachable records a health probe that failed.
func (m *Metrics) StoreUnreachable() {
	if m == nil {
		return
	}
	m.storeErrors.Inc()
}

// caseStates counts cases by state when scraped.
type caseStates struct {
	store core.CaseStore
}

var caseStatesDesc = prometheus.NewDesc("gridbot_cases", "Cases on the ledger by state.", []string{"state"}, nil)

func (c *caseStates) Describe(ch chan<- *prometheus.Desc) { ch <- caseStatesDesc }

func (c *caseStates) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// The store counts at the cost of the open cases, not the ledger.
	counts, err := c.store.CountCases(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(caseStatesDesc, err)
		return
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(caseStatesDesc, prometheus.GaugeValue, float64(n), string(s))
	}
}
