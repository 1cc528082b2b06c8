package configs

import (
	"strings"
	"testing"

	"gridbot/core"
)

// The directory's WeCom entries: a userid and a preference become the
// member's addresses; a group robot on a grid or a village; bad values are
// refused with the key named.
func TestTownWeComEntries(t *testing.T) {
	dir, err := samples.ReadFile("town.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cats, err := samples.ReadFile("categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte {
		if !strings.Contains(string(dir), old) {
			t.Fatalf("the sample lacks %q", old)
		}
		return []byte(strings.Replace(string(dir), old, new, 1))
	}
	const leader = "{id: gl-L10-a, name: 何家豪, role: grid, village: v10, openid: osample-L10-a"
	town, err := ParseTown(edit(leader, leader+", wecom_userid: hejiahao, prefers: wechat"), cats)
	if err != nil {
		t.Fatal(err)
	}
	s := town.StaffMember("gl-L10-a")
	if s.Address(core.ChannelWeCom) != "hejiahao" || s.Address(core.ChannelWeChat) != "osample-L10-a" || s.Prefers != core.ChannelWeChat {
		t.Errorf("the member: %+v", s)
	}
	if town.StaffAt(core.Address{Channel: core.ChannelWeCom, ID: "hejiahao"}) != s {
		t.Error("the userid does not lead to the member")
	}
	grid := "    leader_a: gl-L10-a\n"
	town, err = ParseTown(edit(grid, grid+"    robot_webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k10\n    robot_each_case: true\n"), cats)
	if err != nil {
		t.Fatal(err)
	}
	if g := town.Grid("L10"); g.RobotWebhook == "" || !g.RobotEachCase || len(town.RobotGroups()) != 1 {
		t.Errorf("the grid's robot: %+v", g)
	}
	for name, bad := range map[string][]byte{
		"@all":          edit(leader, leader+", wecom_userid: \"@all\""),
		"a space":       edit(leader, leader+", wecom_userid: \"he jia\""),
		"shared userid": edit(leader, leader+", wecom_userid: x1}\n  - {id: extra, name: 甲, role: town, wecom_userid: x1"),
		"prefers":       edit(leader, leader+", prefers: sms"),
		"webhook":       edit(grid, grid+"    robot_webhook: ftp://example.org/hook\n"),
	} {
		if _, err := ParseTown(bad, cats); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The wecom section: off while corp_id is empty; on, every key is needed
// and checked, the secret may come from the environment.
func TestWeComConfig(t *testing.T) {
	const key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	load := func(section string, environ ...string) error {
		_, err := Load(writeFile(t, "wecom:\n"+section), environ)
		return err
	}
	if err := load("  corp_id: \"\"\n"); err != nil {
		t.Errorf("off: %v", err)
	}
	ok := "  corp_id: ww1\n  agent_id: \"1000002\"\n  token: t\n  aes_key: " + key + "\n"
	if err := load(ok, "GRIDBOT_WECOM_SECRET=s"); err != nil {
		t.Errorf("on, the secret from the environment: %v", err)
	}
	for name, tt := range map[string]struct {
		section string
		want    string
	}{
		"no secret":   {ok, "wecom.secret"},
		"agent_id":    {strings.Replace(ok, "\"1000002\"", "abc", 1) + "  secret: s\n", "wecom.agent_id"},
		"aes_key":     {strings.Replace(ok, key, "short", 1) + "  secret: s\n", "wecom.aes_key"},
		"api_base":    {ok + "  secret: s\n  api_base: qyapi\n", "wecom.api_base"},
		"unknown key": {ok + "  secret: s\n  corpid: x\n", "corpid"},
	} {
		if err := load(tt.section); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", name, err, tt.want)
		}
	}
}
