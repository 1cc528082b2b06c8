package valuecodec

import (
	"encoding/json"
	"testing"
	"time"

	"gridbot/core"
)

// benchSamples are a case with its marks and its events as a filled ledger
// holds them.
func benchSamples(testing.TB) (caseJSON, marksJSON []byte, tails []string) {
	at := time.Date(2025, 7, 3, 10, 6, 41, 312306477, time.FixedZone("", 8*3600))
	c := core.Case{Number: "ST202507030017", State: core.StateClosed, Category: "road", Text: "路灯不亮，晚上很黑，请尽快修理",
		Location: &core.Location{Point: core.Point{Lat: 22.34121, Lng: 112.56893}, Label: "石桥村口"}, Village: "v03", Grid: "M07",
		Resident: "ofill-resident-1234", Phone: "17000001234", Assignee: "gl-M07-a", Post: "A", Deadline: at.Add(72 * time.Hour),
		CreatedAt: at, UpdatedAt: at.Add(50 * time.Hour), Version: 9, Rating: 5}
	m := core.FigureMarks{Number: c.Number, Month: "2025-07", Village: "v03", Grid: "M07", State: core.StateClosed, Deadline: c.Deadline}
	caseJSON, _ = json.Marshal(c)
	marksJSON, _ = json.Marshal(m)
	for i, ev := range []core.Event{
		{Kind: core.EventSubmitted, Actor: core.ActorResident, At: at, Data: map[string]string{"grid": "M07"}},
		{Kind: core.EventAssigned, Actor: "system", At: at.Add(time.Second), Data: map[string]string{core.DataAssignee: "gl-M07-a", core.DataPost: "A", "grid": "M07"}},
		{Kind: core.EventDelivered, Actor: "system", At: at.Add(2 * time.Second), Data: map[string]string{"about": "2", "channel": "template", "to": "gl-M07-a"}},
		{Kind: core.EventAccepted, Actor: "gl-M07-a", At: at.Add(time.Hour)},
		{Kind: core.EventResolved, Actor: "gl-M07-a", At: at.Add(50 * time.Hour), Text: "已更换灯泡"},
		{Kind: core.EventRated, Actor: core.ActorResident, At: at.Add(52 * time.Hour), Data: map[string]string{"rating": "5"}},
	} {
		ev.Case, ev.Seq = c.Number, uint64(1000+i)
		tail, err := EventTail(ev)
		if err != nil {
			panic(err)
		}
		tails = append(tails, tail)
	}
	return caseJSON, marksJSON, tails
}

// BenchmarkCodecs compares each dictionary's packed size and the time to
// expand a case (with its marks) or an event.
func BenchmarkCodecs(b *testing.B) {
	caseJSON, marksJSON, tails := benchSamples(b)
	both := append(append(append([]byte{}, caseJSON...), '\n'), marksJSON...)
	for _, k := range []struct {
		name  string
		c     *Codec
		plain [][]byte
	}{
		{"case/1", CaseWithMarks, [][]byte{both}}, {"case/2", CaseWithMarks2, [][]byte{both}},
		{"event/1", Event, bytesOf(tails)},
	} {
		var packed [][]byte
		size := 0
		for _, p := range k.plain {
			raw, err := k.c.Pack(p)
			if err != nil {
				b.Fatal(err)
			}
			packed, size = append(packed, raw), size+len(raw)
		}
		b.Run(k.name, func(b *testing.B) {
			for i := range b.N {
				if _, err := k.c.Unpack(packed[i%len(packed)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/float64(len(packed)), "bytes")
		})
	}
}

func bytesOf(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
