package valkey

import (
	"testing"
	"time"

	"gridbot/core"
)

func BenchmarkEncodeCase(b *testing.B) {
	at := time.Date(2026, 12, 3, 10, 6, 41, 312306477, time.FixedZone("", 8*3600))
	c := core.Case{Number: "ST202612030001", State: core.StateAssigned, Category: "road", Text: "路灯不亮，晚上很黑，请尽快修理",
		Location: &core.Location{Point: core.Point{Lat: 22.3, Lng: 112.5}, Label: "石桥村口"}, Village: "v01", Grid: "L01",
		Resident: "o1", Assignee: "gl-L01-a", Post: "A", Deadline: at, CreatedAt: at, UpdatedAt: at, Version: 3}
	m := core.FigureMarks{Number: c.Number, Month: "2026-12", Village: "v01", Grid: "L01", State: core.StateAssigned, Deadline: at}
	raw, _ := encodeCase(&c, &m)
	b.Run("pack", func(b *testing.B) {
		for range b.N {
			if _, err := encodeCase(&c, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unpack", func(b *testing.B) {
		for range b.N {
			var got core.Case
			if _, err := decodeCase(raw, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(len(raw)), "bytes")
}
