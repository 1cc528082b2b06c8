// Package console is gridbot's staff console: a JSON API, a websocket feed of
// case events, login with roles from the town directory, and the page itself
// (plain HTML, CSS and JavaScript embedded with go:embed, no build step).
//
// The console only writes to the ledger. Delivering a staff reply to the
// resident and asking for a rating are the router's work: it reads the
// events the ledger wrote.
//
// # Who sees what
//
// Every case endpoint and the websocket feed apply core.Town.CanSee for the
// logged-in staff member: the town sees everything, a village its own cases,
// a grid leader the grids where they hold post A or B. A case the staff
// member may not see answers 404, exactly like a case that does not exist.
// A resident's phone number and the location they sent are shown whole only
// to the assignee, a leader of the case's grid, and town staff; everybody
// else gets the phone masked (138****5678) and no location. Lists always mask
// the phone. Phone numbers are never logged.
//
// # HTTP API
//
// All requests and answers are JSON. Errors are {"error": "<short Chinese
// message>"}. Every POST must carry the header X-Requested-With: gridbot and
// an Origin (or, failing that, a Referer) naming this host or one of
// Server.AllowedOrigins; otherwise it is refused with 403 {"error":"请求来源不被允许"}.
// Request bodies are limited to 16 KiB (413 {"error":"请求内容过大"}).
// Every endpoint but login answers 401 {"error":"请先登录"} without a valid
// session.
//
//	POST /api/login    {"username":"<staff id>","password":"…"}
//	    200 {"staff":{"id","name","role","role_label"}} and a session cookie
//	        (gridbot_session: HttpOnly, SameSite=Strict, Path=/, Secure over
//	        TLS, valid 12 hours).
//	    401 {"error":"用户名或密码错误"} for an unknown user, a wrong password,
//	        a disabled account or an account without a password.
//	POST /api/logout   (no body) → 200 {"ok":true}; ends the session.
//	GET  /api/me       → 200 {"staff":{…}} for the logged-in staff member.
//
//	GET  /api/cases?state=&grid=&q=
//	    The cases the staff member may see, newest first, at most 500.
//	    state: a case state (submitted, assigned, in_progress, resolved,
//	    closed, reopened), or "open" for every state still waiting for work;
//	    empty means all. grid: a grid ID. q: a substring of the case number
//	    or of the text.
//	    200 {"cases":[case, …]} where case is
//	        {"number","state","state_label","category","category_name","text",
//	         "village","village_name","grid","place","assignee","assignee_name",
//	         "deadline","created_at","updated_at","overdue","phone"}
//	        with the phone masked.
//	    400 {"error":"未知的案件状态"} for an unknown state.
//
//	GET  /api/cases/{number}
//	    200 {"case":detail,"events":[event, …]} where detail is the list
//	        fields plus "phone" (whole or masked), "phone_visible" (whether it
//	        is whole), "location" ({"lat","lng","label"} or absent), "photos"
//	        ([{"media_id","url"}]), "result", "rating", "post"; and event is
//	        {"seq","case","kind","label","actor","actor_name","text","data","at"}
//	        with actor_name the staff member's name, 居民 or 系统.
//	    404 {"error":"未找到该案件"} when it does not exist or is not visible.
//
//	POST /api/cases/{number}/reply    {"text":"…"}
//	POST /api/cases/{number}/resolve  {"result":"…"}
//	    200 {"case":detail,"events":[the events written]}
//	    400 {"error":"回复内容不能为空，且不超过1000字"} (or the same for the result)
//	    404 {"error":"未找到该案件"}
//	    409 {"error":"当前状态不能进行此操作"}, or
//	        {"error":"案件刚被更新，请刷新后重试"} on a concurrent update.
//
//	GET  /api/ws  (websocket)
//	    Needs the session cookie (401 before the upgrade otherwise) and an
//	    Origin naming this host or one of AllowedOrigins (403 otherwise). The
//	    server sends, for every ledger event on a case the staff member may
//	    see: {"type":"event","event":event,"case":case} (case as in the
//	    list). Clients send nothing; a binary or oversized (> 4 KiB) message
//	    closes the connection. A client that falls behind is closed with code
//	    1013; it should reconnect and fetch the list again, which is also how
//	    it catches up after any disconnect.
//
//	GET  /  and  /static/…   the page.
package console
