package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"gridbot/configs"
	"gridbot/wechatsim"
)

// templates check compares the mappings with the templates the account
// picked, as WeChat lists them: the simulator's, mapped as the demo maps
// them, fit; a key the template has not got, or an id that is not the
// account's, is named.
func TestTemplatesCheckAgainstTheAccount(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{AppID: "wxcheck", AppSecret: "s", Token: "t",
		Templates: wechatsim.Library(), SubscribeTemplates: wechatsim.SubscribeLibrary()})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	cfg, err := configs.Load("", []string{"GRIDBOT_WECHAT_APP_ID=wxcheck", "GRIDBOT_WECHAT_APP_SECRET=s",
		"GRIDBOT_WECHAT_TOKEN=t", "GRIDBOT_WECHAT_API_BASE=" + srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cfg.WeChat.Templates, cfg.WeChat.Subscribe = simulatorTemplates()
	var out bytes.Buffer
	if err := checkTemplates(context.Background(), cfg, Env{Stdout: &out}); err != nil {
		t.Fatalf("the demo's mappings: %v\n%s", err, out.String())
	}
	for _, want := range []string{"wechat.templates.staff_case: ok", "wechat.templates.warning: ok", "wechat.subscribe.resident_progress: ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	staff := cfg.WeChat.Templates["staff_case"]
	staff.Fields = map[string]string{"thing1": "category", "thing7": "place"}
	cfg.WeChat.Templates["staff_case"] = staff
	rating := cfg.WeChat.Templates["rating"]
	rating.ID = "not-ours"
	cfg.WeChat.Templates["rating"] = rating
	out.Reset()
	if err := checkTemplates(context.Background(), cfg, Env{Stdout: &out}); err == nil {
		t.Fatalf("wrong mappings passed:\n%s", out.String())
	}
	for _, want := range []string{
		"wechat.templates.staff_case: 工单待办提醒 (tpl-staff-case) has no field thing7; its fields are thing1, character_string2, thing3, time4",
		"wechat.templates.staff_case: note: 工单待办提醒's field character_string2 is not mapped",
		"wechat.templates.rating: template not-ours is not among the account's templates",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}
