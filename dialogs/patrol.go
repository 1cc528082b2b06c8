package dialogs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gridbot/core"
)

// Patrol reports from chat (主动发现, 未诉先办): a grid worker writes
// “上报 描述”, after sending photos and the place if they like; or sends a
// photo first, which is kept and answered with the offer to report it.
// What they sent waits in the ephemeral store for PatrolWindow.

// PatrolWindow is how long a staff member's photos and location wait for
// their 上报.
const PatrolWindow = 30 * time.Minute

// maxPatrolPhotos bounds the photos kept for one report.
const maxPatrolPhotos = 9

// patrolKey is the core.Ephemeral key of what a staff member sent toward a
// report.
func patrolKey(openid string) string { return "staffpatrol:" + openid }

// patrolMaterial is what a staff member sent toward a report. Nonce names
// the report, so filing it twice files one case.
type patrolMaterial struct {
	Nonce    string         `json:"nonce"`
	Photos   []core.Media   `json:"photos,omitempty"`
	Location *core.Location `json:"location,omitempty"`
}

func (d *Desk) patrolMaterial(ctx context.Context, openid string) (patrolMaterial, error) {
	var m patrolMaterial
	b, ok, err := d.Keys.Get(ctx, patrolKey(openid))
	if err != nil || !ok {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return patrolMaterial{}, nil // unreadable: start again
	}
	return m, nil
}

// dropPatrolPhoto takes the photo media out of what waits for a report:
// it went with a 办结 as the photo of the fix.
func (d *Desk) dropPatrolPhoto(ctx context.Context, openid, media string) {
	mat, err := d.patrolMaterial(ctx, openid)
	if err != nil || len(mat.Photos) == 0 {
		return
	}
	kept := mat.Photos[:0]
	for _, p := range mat.Photos {
		if p.MediaID != media {
			kept = append(kept, p)
		}
	}
	mat.Photos = kept
	b, err := json.Marshal(mat)
	if err == nil {
		err = d.Keys.Set(ctx, patrolKey(openid), b, PatrolWindow)
	}
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: patrol material", "err", err)
	}
}

// mayPatrol reports whether s files patrol reports: grid leaders, villages
// and the town; departments report through the grid.
func mayPatrol(s *core.Staff) bool { return s.Role != core.RoleDepartment }

// keepForPatrol keeps a photo or a location a staff member sent with no
// reply to relay it with, and offers to report it.
func (d *Desk) keepForPatrol(ctx context.Context, town *core.Town, s *core.Staff, m core.Message) string {
	mat, err := d.patrolMaterial(ctx, m.From)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: patrol material", "err", err)
		return "抱歉，暂时没能收下，请稍后再试。"
	}
	if mat.Nonce == "" {
		mat.Nonce = newNonce()
	}
	var answer string
	switch m.Kind {
	case core.MessageImage:
		if len(mat.Photos) >= maxPatrolPhotos {
			return "一次上报最多附9张照片。请发送“上报 问题描述”上报已收到的照片。"
		}
		mat.Photos = append(mat.Photos, core.Media{MediaID: m.MediaID, URL: m.PicURL})
		answer = "收到照片。要作为主动发现的问题上报吗？请发送“上报 问题描述”（可以再发照片和现场位置）。\n" +
			"如果是办结现场照片，请接着发送“办结 编号 办理结果”；如果是要发给群众的，请先发送“回复 编号 内容”。"
	case core.MessageLocation:
		if m.Location == nil {
			return "没有收到位置，请重新发送。"
		}
		if _, ok := town.GridAt(m.Location.Point); !ok {
			return "这个位置不在本镇的网格内，请重新发送现场位置。"
		}
		loc := *m.Location
		loc.Label = clip(loc.Label, 100)
		mat.Location = &loc
		answer = "收到位置（" + town.PlaceName(gridAt(town, loc.Point)) + "）。要上报这里发现的问题，请发送“上报 问题描述”。\n" +
			"如果是要发给群众的，请先发送“回复 编号 内容”。"
	}
	b, err := json.Marshal(mat)
	if err == nil {
		err = d.Keys.Set(ctx, patrolKey(m.From), b, PatrolWindow)
	}
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: patrol material", "err", err)
		return "抱歉，暂时没能收下，请稍后再试。"
	}
	return answer
}

func gridAt(town *core.Town, p core.Point) string {
	if g, ok := town.GridAt(p); ok {
		return g.ID
	}
	return ""
}

// patrol files “上报 [类别] 描述” with what the sender sent before it.
func (d *Desk) patrol(ctx context.Context, town *core.Town, s *core.Staff, openid, text string) string {
	if !mayPatrol(s) {
		return "主动发现的问题由网格员和村（社区）、镇里上报；部门请通过网格反映。"
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "请写上发现的问题，例如：上报 村口井盖缺失，有安全隐患。\n可以先发现场照片和位置，再发送“上报 …”。"
	}
	mat, err := d.patrolMaterial(ctx, openid)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: patrol material", "err", err)
		return "抱歉，暂时没能上报，请稍后再试。"
	}
	grid := ""
	if mat.Location != nil {
		grid = gridAt(town, mat.Location.Point)
	} else if led := town.GridsLedBy(s.ID); len(led) == 1 {
		grid = led[0]
	}
	if grid == "" {
		return "请先发送现场位置（对话框“+”→位置），再发送“上报 …”，以便确定是哪个网格。"
	}
	category, desc := patrolCategory(town, text)
	if category == "" {
		return "没有认出问题的类别，请在描述前写上类别，例如：上报 " + town.Categories[0].Name + " " + text +
			"\n可选类别：" + strings.Join(categoryNames(town), "、")
	}
	c, err := d.Ledger.Patrol(ctx, s.ID, core.Draft{Category: category, Text: desc, Grid: grid,
		Photos: mat.Photos, Location: mat.Location, Key: mat.Nonce})
	if err != nil {
		if reason, ok := core.RefusalReason(err); ok {
			return reason
		}
		if errors.Is(err, core.ErrInvalid) {
			return "内容太长或不完整，请检查后重发（最多" + itoa(core.MaxTextLen) + "字）。"
		}
		d.log().ErrorContext(ctx, "dialogs: patrol", "err", err)
		return "抱歉，暂时没能上报，请稍后再试。"
	}
	if err := d.Keys.Delete(ctx, patrolKey(openid)); err != nil {
		d.log().ErrorContext(ctx, "dialogs: patrol material", "err", err)
	}
	photos := ""
	if n := len(c.Photos); n > 0 {
		photos = "，附照片" + itoa(n) + "张"
	}
	return "已上报（主动发现）" + photos + "。\n编号：" + c.Number + "\n类别：" + categoryName(town, c.Category) +
		"\n网格：" + town.PlaceName(c.Grid) + "\n将按事项派给网格办理，办结即销号。"
}

// patrolCategory reads the category of a report: named first (“上报 环境卫生
// 水沟堵了”), else guessed from the words; "" when neither.
func patrolCategory(town *core.Town, text string) (code, desc string) {
	first, rest, _ := strings.Cut(text, " ")
	first = strings.TrimRight(first, "：:，,")
	for _, c := range town.Categories {
		if (first == c.Name || strings.EqualFold(first, c.Code)) && strings.TrimSpace(rest) != "" {
			return c.Code, strings.TrimSpace(rest)
		}
	}
	if g := GuessCategory(town, text); len(g) > 0 {
		return g[0].Code, text
	}
	return "", text
}

func newNonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// foundOr is found for a patrol report nobody filed but the grid (no
// resident to tell), else resident.
func foundOr(c *core.Case, found, resident string) string {
	if c.Found() && c.Resident == "" {
		return found
	}
	return resident
}
