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
// Every endpoint and the websocket feed apply core.Town.CanSee for the
// logged-in staff member: the town sees everything, a village its own cases,
// a grid leader the grids where they hold post A or B, a department the cases
// whistled to it. A case the staff member may not see answers 404, exactly
// like one that does not exist. What each role may do on a case is the
// ledger's policy (core/policy.go): the case answer lists the steps open to
// the caller ("actions"), the page offers exactly those, and a step the
// policy refuses is answered 403 or 409 with the policy's own reason. A
// resident's phone number and location are shown whole only to the
// assignee, a leader of the case's grid, and town staff; lists, the feed and
// CSV exports mask the phone (the town may ask an export for it whole).
// Phone numbers are never logged.
//
// # The live feed
//
// The websocket follows the store's event log (core.CaseStore.EventsSince)
// from a sequence number, filtered by visibility; Hub.Publish only wakes the
// followers, and a poll reads anyway. See hub.go. A page resumes with
// ?since=, the last seq it saw, and gets exactly what it missed.
//
// # HTTP API
//
// All requests and answers are JSON. Errors are {"error": "<short Chinese
// message>"}. Every POST must carry the header X-Requested-With: gridbot and
// an Origin (or, failing that, a Referer) naming this host or one of
// Server.AllowedOrigins; otherwise it is refused with 403. Request bodies
// are limited to 16 KiB (413). Every endpoint but login answers 401
// {"error":"请先登录"} without a valid session.
//
//	POST /api/login    {"username","password"} → {"staff":{"id","name","role","role_label"}}
//	    and the gridbot_session cookie (HttpOnly, SameSite=Strict, 12 h).
//	    401 用户名或密码错误; 429 登录尝试过多，请15分钟后再试 after 5 failures
//	    for a username or 50 from one address within 15 minutes.
//	GET  /api/config   → {"product","town","zone"} without a login: the one
//	    product name, the town's name and the IANA name of the town's time
//	    zone; the page shows every time in that zone, whatever the PC's.
//	POST /api/logout   → {"ok":true}
//	GET  /api/me       → {"staff":{…}}
//	GET  /api/directory → {"villages","grids":[{"id","name","place","village"}],
//	    "departments","categories":[{"code","name"}]}: the choices for filters.
//
//	GET  /api/cases?state=&grid=&category=&overdue=1&mine=1&q=&limit=&before=
//	    → {"cases":[case…], "more": cases left below this page,
//	    "seq": the log's position before the list was read}
//	    newest first, limit cases (1 to 500, default 100; else 400), below
//	    the case numbered before (a number of the town, else 400); case is {"number","state","state_label",
//	    "category","category_name","text","village","village_name","grid",
//	    "place","assignee","assignee_name","deadline","created_at",
//	    "updated_at","overdue","phone"(masked)}.
//	GET  /api/cases.csv?(same filters)&phone=full → the queue as CSV; phone=full
//	    only for the town (404 otherwise).
//	GET  /api/cases/{number} → {"case":detail,"events":[event…],"household":[case+"relation"…]}
//	    detail adds "phone_visible","location","photos","result","rating",
//	    "post","warning","departments":[{"department","name","state","lead","reason"}],
//	    "actions":[names]; event is {"seq","case","kind","label","actor",
//	    "actor_name","text","data","at"}; household lists the other cases of
//	    the same resident (同一居民) or address (同一地址). An event's data
//	    carries names beside the directory codes it holds (category_name,
//	    old_category_name, grid_name, old_grid_name, department_name): the
//	    page shows names, never codes.
//	POST /api/cases/{number}/{action} with action one of
//	    accept, transfer (to post B), sign, reopen (town)        {}
//	    reply {"text"}, resolve {"result"}, return {"reason"}
//	    whistle {"department","reason"}
//	    reclassify {"category","grid","reason"} (town; a village within its grids)
//	    → {"case":detail,"events":[written]}; 400 invalid; 404 not visible or
//	    not allowed; 409 当前状态不能进行此操作 or 案件刚被更新，请刷新后重试.
//
//	GET  /api/cases.xlsx?(same filters)&phone=full → the queue as an Excel
//	    workbook (sheet 案件台账) adding location (where the caller may read
//	    it), resolving time, result, rating and closing time; 413
//	    案件超过20000件… over 20,000 cases (narrow the filter, or take the CSV).
//	GET  /api/figures.xlsx?month=2026-11 → one workbook: the three rates by
//	    grid, village, department and month, the month's ledger by grid,
//	    village and department, and the last 12 months.
//
//	The figures, the CSVs and the workbooks read the whole visible history:
//	at most one per CPU (two at least) run at once and the rest wait their
//	turn (heavy.go); one whose caller leaves while waiting answers 503.
//	GET  /api/figures/board → {"rows":[{"kind":"grid"|"department","key","name",
//	    "open","yellow","red","overdue","cases"}]}
//	GET  /api/map → {"grids":[{"id","name","place","village","kind",
//	    "boundary":[{"lat","lng"}],"open","yellow","red","overdue"}],
//	    "pins":[{"number","grid","lat","lng","state_label","category_name",
//	    "warning","overdue"}], "tiles":{"tianditu"} when a key is set}: the
//	    grids staff sees, counted as the board counts, and pins for the open
//	    cases whose location staff may read (see handles).
//	GET  /api/figures/rates?by=grid|village|department|month → {"rows":[{"key",
//	    "name","cases","response_due","response_on_time","response_rate",
//	    "resolution_due","resolution_on_time","resolution_rate","rated",
//	    "satisfied","satisfaction_rate"}]}, a "total" row last
//	GET  /api/figures/ledger?month=2026-11&by=grid|village|department|month →
//	    {"month","rows":[{"key","name","opened","closed","open","overdue","reopened"}]}
//	GET  /api/figures/guess → {"months":[{"month","guessed","corrected","right",
//	     "right_rate"}]}: cases filed with the guessed category, how many
//	     staff corrected, the share right (GET /api/cases/{number} also
//	     gives "text_simplified", the words' simplified reading where they
//	     were written in traditional characters)
//	GET  /api/figures/charts → {"trend":[{"month","opened","closed","overdue"}]
//	    (the last 12 months, oldest first, from the monthly ledger),
//	    "categories":[{"name","cases","open"}] (most cases first)}
//	GET  /api/figures/rates.csv, /api/figures/ledger.csv (same parameters) →
//	    the same rows as CSV (UTF-8 with BOM), units by name (合计 for the
//	    total), no directory codes.
//
//	Town only (404 for anyone else, and when Server.Book is nil):
//	GET  /api/staff → {"staff":[{"id","name","role","role_label","village",
//	    "department","disabled","has_password","posts":["L10:A"],"post_names":["石桥村 · 一网格 A岗"]}],"grids":[…]}
//	POST /api/staff {"id","name","role","village","department","password"}
//	POST /api/staff/{id}/disable {"disabled":true|false}
//	POST /api/staff/{id}/password {"password"}
//	POST /api/staff/{id}/bind-code → {"code","expires_minutes"}
//	POST /api/grids/{grid}/post {"post":"A"|"B","staff"}
//
//	GET  /api/ws?since=SEQ  (websocket; session cookie and a same-site Origin)
//	    Sends {"type":"event","seq","event","case"} for every event after SEQ
//	    (default: now) on a case the staff member may see, in order, then
//	    live; {"type":"ping","seq"} every 25 s (the position reached);
//	    {"type":"resync"} and close code 4000 when SEQ is more than 1000
//	    events behind: reload from the API, then resume from its seq. Clients
//	    send nothing; anything they send closes the connection.
//
//	GET  /  and  /static/…   the page.
package console
