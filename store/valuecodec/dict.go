package valuecodec

// The preset dictionaries of the values' compression (codec.go). Each
// is the shape of its kind of value — field names in the order
// encoding/json writes them, the states, kinds and words the code itself
// writes, the digits of a time — and no town's data. They are never
// edited once values are written with them: a changed dictionary gets a
// new tag.

const CaseDict1 = `"paused":true,"paused_at":"","resume_at":"","extensions":[{"days":` +
	`"channel":"wecom","contact":"","urgent":true,"urges":1,"urged_at":"","merged_into":"","origin":"found","finder":"",` +
	`"photos":[{"media_id":"","url":""}],"voices":[{"media_id":""}],"address":"","submit_key":"","joined":[{"resident":"o","at":""}],` +
	`"published":true,"rating":5,"pending":"","reason":"","department":"","state":"signed","lead":true}],` +
	`"warning":"yellow","warning":"red","escalation":1,"callback":{"reason":"unrated","due":"","at":""},` +
	`{"number":"ST202612030001","state":"submitted","state":"assigned","state":"in_progress","state":"resolved","state":"reopened",` +
	`"category":"env","category":"road","category":"light","text":"","location":{"lat":22.3,"lng":112.5,"label":""},` +
	`"village":"v01","grid":"L01","resident":"o","phone":"1","assignee":"gl-L01-a","post":"A","post":"B",` +
	`"deadline":"2026-12-03T10:06:41.312306477+08:00","result":"",` +
	`"created_at":"2026-12-03T10:06:41.312306477+08:00","updated_at":"2026-12-03T10:06:41.312306477+08:00",` +
	`"term_start":"2026-12-03T10:06:41.312306477+08:00","assigned_at":"2026-12-03T02:07:42.59830606Z",` +
	`"resolved_at":"2026-12-03T04:48:30.459095476+08:00","departments":[{"department":"","state":"signed","lead":true}],` +
	`"state":"closed","version":1`

const MarksDict1 = `"x":true,"ra":"","sa":"","re":"","rc":"","oe":"","o":"","ro":true,"rt":5,` +
	`{"n":"ST202612030001","m":"2026-12","v":"v01","g":"L01","c":"road","d":[""],"s":"submitted","s":"assigned",` +
	`"s":"in_progress","s":"resolved","s":"reopened","s":"closed",` +
	`"dl":"2026-12-03T10:06:41.312306477+08:00","as":"2026-12-03T02:07:42.59830606Z","r":true,` +
	`"rs":"2026-12-03T04:48:30.459095476+08:00","cl":["2026-12"],"ch":"2026-12-03T05:48:30.459095476+08:00"}`

const EventDict1 = `,"returned","system",1764700000000000000,{"reason":""}]` +
	`,"joined","resident",1764700000000000000,{"lat":"22.3","lng":"112.5","label":""},"",28800]` +
	`,"reopened","resident",1764700000000000000,{"reason":"not_done"},"",28800]` +
	`,"undeliverable","system",1764700000000000000,{"about":"1","channel":"template","errcode":"43004","to":"resident"}]` +
	`,"transferred","system",1764700000000000000,{"assignee":"gl-L01-b","grid":"L01","post":"B","reason":"silent"}]` +
	`,"signed","dept-",1764700000000000000,{"department":"","lead":"true"}]` +
	`,"whistled","gl-L01-a",1764700000000000000,{"department":"","lead":"true"},""]` +
	`,"callback_due","system",1764700000000000000,{"due":"2026-12-03T05:48:30+08:00","reason":"unrated"},"",28800]` +
	`,"escalated","system",1764700000000000000,{"grid":"L01","level":"village"},"",28800]` +
	`,"warned","system",1764700000000000000,{"level":"yellow"},"",28800]` +
	`,"replied","gl-L01-a",1764700000000000000,{"media_id":"","pic_url":""},""]` +
	`,"rated","resident",1764700000000000000,{"rating":"5"},"",28800]` +
	`,"closed","system",1764700000000000000,{"unrated":"true"},"",28800]` +
	`,"resolved","gl-L01-a",1764700000000000000,null,"",28800]` +
	`,"accepted","gl-L01-a",1764700000000000000]` +
	`,"submitted","resident",1764700000000000000,{"grid":"L01"},"",28800]` +
	`,"assigned","system",1764700000000000000,{"assignee":"gl-L01-a","grid":"L01","post":"A"}]` +
	`,"delivered","system",1764700000000000000,{"about":"1","channel":"custom","to":"resident"}]`
