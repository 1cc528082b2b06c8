// Package export writes the cases of a time range, with their event logs, as
// one JSON document: the shape a city or province platform (a 12345 hotline
// system, 粤平安) takes in. `gridbot export` and any scheduled hand-over use
// it; Write streams, so a year of cases needs no more memory than a month's
// cases (without their logs).
//
// # Selection
//
// A case is exported when its created_at lies in [since, until): since
// included, until excluded, so consecutive ranges (one day, the next day)
// never export a case twice or miss one. Cases come in the order they were
// filed. The export finds them by their numbers, which carry the day they
// were filed: it reads the cases of the range's days (a day more each side),
// a month at a time, and not the rest of the ledger; a case erased from the
// store is left out.
//
// # Format
//
// Times are RFC 3339 in UTC+8 (2026-11-25T09:00:00+08:00); a time that is
// not set is "". The document is one JSON object, written with one case per
// line:
//
//	{"generated_at":"…","town":"…","since":"…","until":"…","cases":[
//	{"number":"ST202611250001", …, "events":[…]},
//	…
//	]}
//
// Top level:
//
//   - generated_at: when the export was written.
//   - town: the town's name from the town directory.
//   - since, until: the range asked for; cases have since ≤ created_at < until.
//   - cases: the cases, in the order they were filed; [] when none.
//
// Each case:
//
//   - number: the case number (ST + date + running count), unique in the town
//     and stable: the key to match a case across exports.
//   - state: submitted, assigned, in_progress, resolved (waiting for the
//     resident's rating), closed (rated, settled on the ledger) or reopened.
//   - state_label: the state in Chinese (已提交, 已派单, 办理中, 已办结，待评价,
//     已结案, 已重新办理).
//   - category_code, category_name: the line of the category list
//     (事项准入清单); the name is the code when the category has since been
//     removed from the list.
//   - village: the village or community's name.
//   - grid: the grid's name.
//   - place: village and grid together as people read them ("石桥村 ·
//     石桥大网格").
//   - department: the name of the department leading on the case: the
//     department whistled up as lead (网格吹哨, unless it returned the case),
//     else the category's lead department; "" when there is none.
//   - text: the resident's description, with phone and ID numbers masked
//     (138****5678).
//   - location: {"lat": …, "lng": …} in WGS-84 degrees where the matter is,
//     or null when the resident chose village and grid from the lists.
//   - created_at, updated_at: when the case was filed and last changed.
//   - deadline: when the category's deadline runs out.
//   - result: what staff recorded on resolving it (phone and ID numbers masked), or "".
//   - rating: the resident's rating 1–5, or null before they rate.
//   - events: the case's log, in order (below).
//
// Each event:
//
//   - seq: the event's sequence number, unique in the town and growing; the
//     key to match an event across exports.
//   - kind: submitted, assigned, accepted, replied, resolved, rated, closed,
//     reopened, delivered (a push reached WeChat), undeliverable (a push
//     failed for good), transferred (to the backup on post B), whistled (a
//     department called), signed (the department took charge), returned (the
//     department gave it back), warned (the deadline is near or past),
//     escalated (reported up the chain). New kinds may be added: a consumer
//     should keep the ones it does not know as plain log lines.
//   - actor_role: who acted, by role only: resident, system, grid (a grid
//     leader), village, department, town, or staff (someone no longer in the
//     directory).
//   - text: for replied, the message staff sent the resident; for resolved,
//     the result. Phone and ID numbers masked. Absent on every other kind.
//   - at: when it happened.
//
// # Personal data
//
// The export carries no resident's openid, phone number or own description
// of the place (the location label), and names no staff member: staff
// appear only as roles. Phone and ID numbers residents or staff wrote into
// the free text are masked (core.MaskNumbers). The description itself is the request and is
// exported as written otherwise.
package export
