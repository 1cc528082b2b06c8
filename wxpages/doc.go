// Package wxpages serves the pages residents and staff open inside WeChat:
// a case's own page (/wx/cases/{number}) and the report form (/wx/report).
//
// A reader is known only by web authorisation (网页授权, snsapi_base): a
// page asked without a session sends the browser to WeChat's
// /connect/oauth2/authorize with a one-time state bound to the browser by a
// cookie; WeChat sends it back to /wx/auth with a code, which the server
// exchanges once at /sns/oauth2/access_token for the reader's openid and
// then keeps in its own signed, HttpOnly session. A link alone proves
// nothing: a case a reader may not see answers exactly like one that does
// not exist.
//
// Who sees what is the policy's (core/policy.go): staff (known by their
// bound openid) see what their role may see, the phone whole only where
// core.Town.SeesPersonalData allows, and get buttons for exactly core.Town.Steps;
// residents see their own cases and those they joined. Every step goes
// through the core.Ledger, which decides inside its write; a refusal is
// shown in its own words (core.RefusalReason).
//
// The pages are plain HTML, CSS and JavaScript embedded with go:embed, laid
// out for a 390 px wide phone first. Every POST needs the same origin and
// the session's CSRF token; bodies, photos and requests per reader are
// bounded.
package wxpages
