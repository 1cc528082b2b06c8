package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// addWeCom builds the collectors of the WeCom app's callback and the group
// robots; its pushes are gridbot_pushes_total's channel "wecom".
func (m *Metrics) addWeCom() {
	m.weComCallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gridbot_wecom_callbacks_total",
		Help: "WeCom app callbacks by message type and outcome.",
	}, []string{"type", "outcome"})
	m.weComReplySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gridbot_wecom_reply_seconds",
		Help:    "Time to answer a WeCom app callback.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.robotPosts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gridbot_wecom_robot_posts_total",
		Help: "Posts to the grid teams' WeCom group robots by kind (digest, new_case) and outcome (posted, busy: the minute's 20 spent, failed).",
	}, []string{"kind", "outcome"})
}

// WeComCallback records one WeCom app callback.
func (m *Metrics) WeComCallback(kind, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.weComCallbacks.WithLabelValues(kind, outcome).Inc()
	if took > 0 {
		m.weComReplySeconds.Observe(took.Seconds())
	}
}

// RobotPost records one post to a group robot.
func (m *Metrics) RobotPost(kind, outcome string) {
	if m == nil {
		return
	}
	m.robotPosts.WithLabelValues(kind, outcome).Inc()
}
