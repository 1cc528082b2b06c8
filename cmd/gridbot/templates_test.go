package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// templatesYAML is simulatorTemplates as the wechat section of a config
// file writes it (indented under wechat:).
func templatesYAML(t testing.TB) string {
	t.Helper()
	templates, subscribe := simulatorTemplates()
	var b strings.Builder
	for _, key := range []string{"templates", "subscribe"} {
		src := templates
		if key == "subscribe" {
			src = subscribe
		}
		fmt.Fprintf(&b, "  %s:\n", key)
		kinds := make([]string, 0, len(src))
		for k := range src {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, kind := range kinds {
			tpl := src[kind]
			var fields []string
			for k, v := range tpl.Fields {
				fields = append(fields, k+": "+v)
			}
			sort.Strings(fields)
			fmt.Fprintf(&b, "    %s: {id: %q, fields: {%s}}\n", kind, tpl.ID, strings.Join(fields, ", "))
		}
	}
	return b.String()
}
