package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"gridbot/core"
	"gridbot/dialogs"
	"gridbot/ledgerfill"
)

// The demo shows a living town (issue 18): its first run writes a month of
// the town's life (ledgerfill), so the map, the board and the charts have
// something to show; its logins are kept in its data folder, so a reload
// of the console after a restart still logs in; and it prints a short
// Chinese guide for each role.

// demoHistoryCases is how many cases the first run's month holds.
const demoHistoryCases = 300

// demoLoginsFile keeps the demo's passwords between runs, readable by the
// one who runs it only. They open a demo on loopback and nothing else.
const demoLoginsFile = "logins.json"

// demoKeysFile is the demo's data key file, in its data folder.
const demoKeysFile = "data-keys"

// demoPasswords reads the demo's passwords from dir, or makes and writes
// them on the first run (and for a login added since); extra are logins
// besides the town's (the city demo's).
func demoPasswords(dir string, extra ...string) (map[string]string, error) {
	path := filepath.Join(dir, demoLoginsFile)
	passwords := map[string]string{}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("demo logins: %w", err)
	default:
		if err := json.Unmarshal(raw, &passwords); err != nil {
			return nil, fmt.Errorf("demo logins %s: %w (delete it for new ones)", path, err)
		}
	}
	changed := false
	ids := extra
	for _, l := range demoLogins {
		ids = append(ids, l.id)
	}
	for _, id := range ids {
		if len(passwords[id]) < 8 {
			passwords[id] = randomText(9)
			changed = true
		}
	}
	if !changed {
		return passwords, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo logins: %w", err)
	}
	out, err := json.MarshalIndent(passwords, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return nil, fmt.Errorf("demo logins: %w", err)
	}
	return passwords, nil
}

// demoHistory writes a month of history into an empty demo ledger, marked
// as announced so that nobody is pushed a month of old news; it does
// nothing to a ledger that has cases.
func demoHistory(ctx context.Context, a *app, out io.Writer, cases int) error {
	if cases <= 0 {
		return nil
	}
	if some, err := a.backend.store.Cases(ctx, core.CaseQuery{Limit: 1}); err != nil {
		return fmt.Errorf("demo history: %w", err)
	} else if len(some) > 0 {
		return nil
	}
	fmt.Fprintf(out, "  首次运行：正在写入一个月的办件记录（%d 件），请稍候……\n", cases)
	began := time.Now()
	st, err := ledgerfill.Fill(ctx, a.ledger, ledgerfill.Options{Cases: cases, Months: 1, Seed: 18, Workers: 4})
	if err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	if err := demoVisits(ctx, a); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	if err := settleAnnouncements(ctx, a.backend); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	fmt.Fprintf(out, "  已写入 %d 件（%d 件在办），用时 %s。\n", st.Cases, st.Open, time.Since(began).Round(100*time.Millisecond))
	return nil
}

// demoVisits records a few visits of 石桥's cadres to their linked
// households (二十户包联), one of them filing what was found, so the
// households' files and the visits' figures have something to show.
func demoVisits(ctx context.Context, a *app) error {
	town := a.ledger.Town.Town()
	visits := &core.Visits{Links: &core.LinkBook{Town: a.ledger.Town, Records: a.backend.store}, Store: a.backend.store, Ledger: a.ledger}
	found := []string{"家里都好，老人身体不错", "反映孩子上学路上没有路灯", "屋顶去年修过，今年没再漏"}
	n := 0
	for _, h := range town.Linked {
		if h.Village != "v10" {
			continue
		}
		n++
		r := core.VisitReport{Household: h.ID, Found: found[n%len(found)], Key: "demo-" + h.ID}
		if n == 2 {
			r.Found, r.Case, r.Category = "门口水渠堵了，下雨就漫到路上", true, town.Categories[0].Code
			if g := dialogs.GuessCategory(town, r.Found); len(g) > 0 {
				r.Category = g[0].Code
			}
		}
		if _, _, err := visits.Record(ctx, h.Cadre, r); err != nil {
			return fmt.Errorf("visit %s: %w", h.ID, err)
		}
	}
	return nil
}

// demoGuide is what each role does first in the demo, in Chinese.
const demoGuide = `
  上手指南（每个角色的日常工作）：
    居民      在“模拟手机”选 居民 甲，发“报事”，按提示描述问题、发位置或照片，确认后得到编号；办结后回复 1-5 评价。
    网格员    用 gl-L10-a 登录工作台：工作台看本网格待办，点开案件“受理”“回复”“办结”（可附现场照片），
              遇到办不了的“吹哨”给部门；电话或来访的群众诉求用“代录事项”登记；“打印派工单”带到现场。
              在微信里先发现场照片、接着发“办结 编号 结果”，照片就随结果发给群众。
              “包联农户”里看自己包联的户（一户一档），记录走访；在微信里发“包联”“走访 梁伯 家里都好”也可以。
    村（社区） 用 v10-cadre 登录：看本村网格的案件，对慢的“催办”、急的“加急”，把重复反映“合并”，审批延期、挂起；
              “包联农户”里走访包联的户，发现的问题可直接上报；纠纷案件记录调解（微信里“调解”“调解结果”）。
    部门      用 dept-chengjian 登录：看吹哨给城建办的案件，“领办”后办理、回复、办结，不归本部门的“退回”并说明理由。
    镇        用 town-admin 登录：网格地图、督办看板、统计报表（主动发现与群众上报、可导出 Excel）。
    系统管理员 用 sys-admin 登录：人员管理，批量导入人员（不看案件）。
`
