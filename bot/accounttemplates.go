package bot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// The account's own templates, as WeChat lists them, so an official can
// check the mappings in wechat.templates and wechat.subscribe against the
// templates they actually picked: WeChat's category library cannot be
// listed through the API, and its titles and keys differ by category, so
// the account's list is the only authority.

// AccountTemplate is a template the account picked: its ID, title and the
// keys of its fields (thing1, character_string2 …), in order.
type AccountTemplate struct {
	ID    string
	Title string
	Keys  []string
}

// templateKey finds {{thing1.DATA}} in a template's content (WeChat's
// documentation also shows it spaced, { {thing1.DATA} }).
var templateKey = regexp.MustCompile(`\{\s*\{\s*([A-Za-z_]+[0-9]*)\.DATA\s*\}\s*\}`)

// ListTemplates lists the account's message templates
// (/cgi-bin/template/get_all_private_template), or with subscribe its 订阅
// 通知 templates (/wxaapi/newtmpl/gettemplate).
func ListTemplates(ctx context.Context, tokens Tokens, apiBase string, client *http.Client, subscribe bool) ([]AccountTemplate, error) {
	if apiBase == "" {
		apiBase = DefaultAPIBase
	}
	if client == nil {
		client = NewAPIClient(DefaultAPITimeout)
	}
	path := "/cgi-bin/template/get_all_private_template"
	if subscribe {
		path = "/wxaapi/newtmpl/gettemplate"
	}
	var res apiResult
	for try := 0; try < 2; try++ {
		token, err := tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
		res, err = apiCall{client: client, base: apiBase, path: path, query: url.Values{"access_token": {token}},
			secrets: []string{token}}.do(ctx)
		if err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
		if isTokenError(res.ErrCode) && try == 0 {
			tokens.Invalidate(ctx, token)
			continue
		}
		break
	}
	if res.ErrCode != 0 {
		return nil, fmt.Errorf("list templates: %s: errcode %d: %s", path, res.ErrCode, res.ErrMsg)
	}
	var out []AccountTemplate
	for _, t := range append(res.TemplateList, res.Data...) {
		at := AccountTemplate{ID: t.TemplateID, Title: t.Title}
		if at.ID == "" {
			at.ID = t.PriTmplID
		}
		for _, m := range templateKey.FindAllStringSubmatch(t.Content, -1) {
			if k := m[1]; k != "first" && k != "remark" && !slices.Contains(at.Keys, k) {
				at.Keys = append(at.Keys, k)
			}
		}
		out = append(out, at)
	}
	return out, nil
}

// CheckAgainst compares a mapping with the account's templates: problems
// make the notice fail (the template is not the account's, a mapped key is
// not the template's); notes are fields left empty.
func (t NoticeTemplate) CheckAgainst(account []AccountTemplate) (problems, notes []string) {
	i := slices.IndexFunc(account, func(a AccountTemplate) bool { return a.ID == t.ID })
	if i < 0 {
		return []string{fmt.Sprintf("template %s is not among the account's templates", t.ID)}, nil
	}
	a := account[i]
	keys := make([]string, 0, len(t.Fields))
	for k := range t.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(a.Keys, k) {
			problems = append(problems, fmt.Sprintf("%s (%s) has no field %s; its fields are %s", a.Title, t.ID, k, strings.Join(a.Keys, ", ")))
		}
	}
	for _, k := range a.Keys {
		if _, ok := t.Fields[k]; !ok {
			notes = append(notes, fmt.Sprintf("%s's field %s is not mapped and will show empty", a.Title, k))
		}
	}
	return problems, notes
}
