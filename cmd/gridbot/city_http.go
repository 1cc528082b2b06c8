package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"gridbot/console"
	"gridbot/open311"
)

// TownCookie names the town whose console a browser talks to. It only
// routes: a console session lives in its town's store alone, so a cookie
// naming another town than the session's finds no session there (401), and
// nothing of one town is reachable with another's login.
const TownCookie = "gridbot_town"

// consoleTown is the town the request's town cookie names, or nil.
func (c *city) consoleTown(r *http.Request) *cityTown {
	if len(c.towns) == 1 {
		return c.towns[0]
	}
	ck, err := r.Cookie(TownCookie)
	if err != nil {
		return nil
	}
	return c.byKey[ck.Value]
}

// byConsoleTown dispatches a console request to its town's part. Without a
// town chosen, the page and its files come from the first town (they are
// the same for all) and the API answers 401 with a word to pick a town.
func (c *city) byConsoleTown(part func(*cityTown) http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t := c.consoleTown(r); t != nil {
			part(t).ServeHTTP(w, r)
			return
		}
		switch {
		case r.URL.Path == "/api/config":
			// The login page's title: the city, not a town.
			w.Header().Set("Cache-Control", "no-store")
			writeCityJSON(w, http.StatusOK, map[string]any{"product": console.ProductName, "town": c.name,
				"zone": c.towns[0].town().TimeZone})
		case strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/media/"):
			w.Header().Set("Cache-Control", "no-store")
			writeCityJSON(w, http.StatusUnauthorized, map[string]string{"error": msgPickTown})
		default:
			c.towns[0].app.parts.console.ServeHTTP(w, r)
		}
	})
}

// msgPickTown answers a console request made before a town was chosen.
const msgPickTown = "请先选择所在的镇，再登录"

// townView is a town as the login page's picker lists it.
type townView struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// handleTowns lists the towns for the login page's picker, and the one
// this browser chose.
func (c *city) handleTowns(w http.ResponseWriter, r *http.Request) {
	out := struct {
		City    string     `json:"city"`
		Towns   []townView `json:"towns"`
		Current string     `json:"current"`
	}{City: c.name}
	for _, t := range c.towns {
		out.Towns = append(out.Towns, townView{Key: t.key, Name: t.name})
	}
	if t := c.consoleTown(r); t != nil {
		out.Current = t.key
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCityJSON(w, http.StatusOK, out)
}

// handleChooseTown sets the town cookie to a town of the city. Like every
// console post it must come from the page itself (X-Requested-With, which
// no other site can send without the browser asking first).
func (c *city) handleChooseTown(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("X-Requested-With") != "gridbot" {
		writeCityJSON(w, http.StatusForbidden, map[string]string{"error": "请求来源不被允许"})
		return
	}
	var body struct {
		Town string `json:"town"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1024)).Decode(&body); err != nil {
		writeCityJSON(w, http.StatusBadRequest, map[string]string{"error": "请求格式错误"})
		return
	}
	t, ok := c.byKey[body.Town]
	if !ok {
		writeCityJSON(w, http.StatusBadRequest, map[string]string{"error": "没有这个镇"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: TownCookie, Value: t.key, Path: "/", HttpOnly: true,
		Secure: c.secure || c.proxies.TLS(r), SameSite: http.SameSiteStrictMode})
	writeCityJSON(w, http.StatusOK, townView{Key: t.key, Name: t.name})
}

func writeCityJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// open311 serves every town's Open311 at one endpoint, jurisdiction_id
// choosing the town (GeoReport v2's own parameter for this).
func (c *city) open311() http.Handler {
	j := &open311.Jurisdictions{Handlers: map[string]http.Handler{}}
	for _, t := range c.towns {
		j.IDs = append(j.IDs, t.key)
		j.Handlers[t.key] = t.app.parts.open311
	}
	return j.Handler()
}

// pages dispatches the pages inside WeChat: a case's page and API to the
// town its number belongs to; the report form to the reader's town; the
// authorisation and the pages' files to any town, since the account's
// web-authorised sessions are the city's (sharedAccount.pageKeys) and the
// files are the same.
func (c *city) pages(w http.ResponseWriter, r *http.Request) {
	if number, ok := pageCaseNumber(r.URL.Path); ok {
		if t := c.townOfCase(number); t != nil {
			t.app.parts.pages.ServeHTTP(w, r)
			return
		}
		http.Error(w, "没有找到这件事项，请核对编号。", http.StatusNotFound)
		return
	}
	switch r.URL.Path {
	case "/wx/report", "/wx/api/report", "/wx/api/directory":
		// The reader's town: the one they were routed to in chat.
		first := c.towns[0].app.parts.pagesServer
		openid, ok := first.ReaderID(r)
		if !ok {
			// Not yet authorised: any town starts the authorisation,
			// which comes back here.
			c.towns[0].app.parts.pages.ServeHTTP(w, r)
			return
		}
		t, err := (&cityFront{city: c}).routed(r.Context(), openid)
		if err != nil {
			c.log.Error("wx pages: read route", "err", err)
			http.Error(w, "服务暂时不可用，请稍后再试。", http.StatusServiceUnavailable)
			return
		}
		if t == nil && len(c.towns) == 1 {
			t = c.towns[0]
		}
		if t == nil {
			http.Error(w, "请先在公众号里回复“切换镇”选择您所在的镇，再打开本页。", http.StatusConflict)
			return
		}
		t.app.parts.pages.ServeHTTP(w, r)
	default:
		c.towns[0].app.parts.pages.ServeHTTP(w, r)
	}
}

// pageCaseNumber is the case number in a path of the pages' case routes.
func pageCaseNumber(path string) (string, bool) {
	for _, p := range []string{"/wx/cases/", "/wx/api/cases/", "/wx/api/media/"} {
		if rest, ok := strings.CutPrefix(path, p); ok {
			number, _, _ := strings.Cut(rest, "/")
			return number, number != ""
		}
	}
	return "", false
}

// townOfCase is the town whose case numbers number has the shape of: its
// prefix followed by digits only. Prefixes are the towns' own
// (configs.WatchCityTowns), so one town at most matches.
func (c *city) townOfCase(number string) *cityTown {
	for _, t := range c.towns {
		rest, ok := strings.CutPrefix(number, t.town().CasePrefix)
		if !ok || rest == "" {
			continue
		}
		if strings.Trim(rest, "0123456789") == "" {
			return t
		}
	}
	return nil
}
