package core

import "math"

// Cue is one word or phrase that points to a category in what residents
// write (路灯, 不亮, 垃圾), with its weight. Parts joined with "+" must all
// occur (路灯+不亮). A negative weight counts against the category.
type Cue struct {
	Phrase string `json:"phrase"`
	Weight int    `json:"weight"`
}

// The events residents add to a case from their chat.
const (
	EventJoined       EventKind = "joined"       // another resident joined the case (附议)
	EventSupplemented EventKind = "supplemented" // the resident added words, a photo or a voice (补充)
	EventWithdrawn    EventKind = "withdrawn"    // the resident withdrew the case, with a reason (撤回)
	EventAnonymised   EventKind = "anonymised"   // the resident deleted their household file (注销)
	EventMediaSaved   EventKind = "media_saved"  // a photo or voice was fetched from WeChat and kept
)

// Keys used in Event.Data by the resident events.
const (
	DataJoined = "joined" // "true" on deliveries to, and ratings by, joined residents
	DataKind   = "kind"   // image or voice, on media_saved
)

// ReasonWithdrawn is DataReason on the close that follows a withdrawal.
const ReasonWithdrawn = "withdrawn"

// ActorJoinedPrefix starts the recipient (DataTo) of a push to a resident
// who joined the case: "joined:" + their openid.
const ActorJoinedPrefix = "joined:"

// residentEventLabel names the resident events for staff.
func residentEventLabel(k EventKind) string {
	switch k {
	case EventJoined:
		return "居民附议"
	case EventSupplemented:
		return "居民补充"
	case EventWithdrawn:
		return "居民撤回"
	case EventAnonymised:
		return "个人信息已注销"
	case EventMediaSaved:
		return "附件已保存"
	}
	return gridEventLabel(k)
}

// DistanceM is the great-circle distance between two points in metres.
func DistanceM(a, b Point) float64 {
	const earth = 6371000.0
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	dLat, dLng := rad(b.Lat-a.Lat), rad(b.Lng-a.Lng)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(rad(a.Lat))*math.Cos(rad(b.Lat))*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earth * math.Asin(math.Min(1, math.Sqrt(h)))
}
