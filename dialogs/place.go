package dialogs

import (
	"context"

	"gridbot/core"
)

// Step 3 of the intake, and the register flow's first: the place, by
// location or by village and grid.

func villageNames(town *core.Town) []string {
	names := make([]string, len(town.Villages))
	for i, v := range town.Villages {
		names[i] = v.Name
	}
	return names
}

func (e *Engine) promptPlace(town *core.Town, s *Session) string {
	ask := stepNo(s, 3) + "事情发生在哪里？\n"
	if s.Flow == flowRegister {
		ask = "请问您家住在哪个村（社区）？\n"
	}
	return ask +
		"方法一：点输入框旁的“+”，选“位置”发送。\n" +
		"方法二：回复村（社区）的序号：\n" +
		numbered(villageNames(town)) + "\n" +
		tail("请发送位置，或回复村（社区）序号", s, stepPlace)
}

func (e *Engine) handlePlace(_ context.Context, town *core.Town, s *Session, in input) string {
	names := villageNames(town)
	i, res := choose(in.raw, names)
	switch res {
	case pickOK:
		v := town.Villages[i]
		if len(town.GridsOf(v.ID)) == 0 {
			return v.Name + "暂未划分网格，请选择其他村（社区），或发送位置。\n" + e.promptPlace(town, s)
		}
		s.Village = v.ID
		return e.enter(town, s, stepGrid)
	case pickOutOfRange:
		return outOfRange(in.norm, len(names)) + "\n" + e.promptPlace(town, s)
	}
	return "没有认出这个地方。请发送位置，或回复村（社区）的序号。\n" + e.promptPlace(town, s)
}

func (e *Engine) handleLocation(ctx context.Context, town *core.Town, s *Session, in input) string {
	loc := *in.msg.Location
	g, ok := town.GridAt(loc.Point)
	if !ok && s.Step == "" {
		// Sent before anything else: the place is asked in its turn.
		return "您发送的位置不在本镇的网格范围内，稍后请选择地点。\n" + e.advance(ctx, town, s)
	}
	if !ok {
		s.Step, s.Village = stepPlace, ""
		return "您发送的位置不在本镇的网格范围内。请回复村（社区）的序号选择：\n" +
			numbered(villageNames(town)) + "\n" +
			tail("回复序号选择", s, stepPlace)
	}
	s.Draft.Location = &loc
	s.Draft.Village, s.Draft.Grid, s.Draft.Address, s.FromHousehold = g.Village, g.ID, "", false
	return "已定位到：" + town.PlaceName(g.ID) + "。\n" + e.advance(ctx, town, s)
}

func (e *Engine) promptGrid(town *core.Town, s *Session) string {
	v := town.Village(s.Village)
	if v == nil {
		return e.enter(town, s, stepPlace)
	}
	return "请选择" + v.Name + "的网格：\n" + numbered(gridNames(town.GridsOf(v.ID))) + "\n" +
		tail("回复序号选择", s, stepGrid)
}

func gridNames(grids []core.Grid) []string {
	names := make([]string, len(grids))
	for i, g := range grids {
		names[i] = g.Name
	}
	return names
}

func (e *Engine) handleGrid(ctx context.Context, town *core.Town, s *Session, in input) string {
	grids := town.GridsOf(s.Village)
	if len(grids) == 0 {
		return e.enter(town, s, stepPlace)
	}
	i, res := choose(in.raw, gridNames(grids))
	switch res {
	case pickOK:
		g := grids[i]
		s.Draft.Location, s.Draft.Address, s.FromHousehold = nil, "", false
		s.Draft.Village, s.Draft.Grid = g.Village, g.ID
		return "已选择：" + town.PlaceName(g.ID) + "。\n" + e.advance(ctx, town, s)
	case pickOutOfRange:
		return outOfRange(in.norm, len(grids)) + "\n" + e.promptGrid(town, s)
	}
	return "没有认出这个网格，请回复列表中的序号。\n" + e.promptGrid(town, s)
}
