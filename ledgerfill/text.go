package ledgerfill

import (
	"math/rand/v2"
	"strconv"

	"gridbot/core"
)

// What residents and staff write, by category: made up, in the words a
// town's residents use, varied enough that a text search finds some cases
// and not others.
var (
	matters = map[string][]string{
		"env":      {"门口水渠堵了，污水漫到路上", "垃圾桶满了好几天没人清运", "河道有漂浮物和死鱼，很臭", "有人在空地烧垃圾，烟很大", "公厕没人打扫，气味很重", "下水道堵塞，下雨就积水"},
		"light":    {"村口路灯不亮，晚上黑漆漆的", "路灯白天也亮着，浪费电", "灯杆被车撞歪了", "小巷没有灯，老人晚上摸黑走路"},
		"road":     {"路面有个大坑，电动车摔过", "井盖松动，踩上去会响", "泥头车超速，路边很危险", "路口乱停车，堵住了进村的路", "减速带坏了，钉子露出来"},
		"dispute":  {"邻居加建挡住我家采光，协商不成", "宅基地边界有争议，想请村里调解", "楼上漏水到我家，对方不理", "承包地租金纠纷，想找人调解"},
		"security": {"夜里有陌生人在巷子里转", "电动车在楼道充电，怕着火", "路边电线垂得很低，怕漏电", "山边有人私自烧香，担心山火"},
		"social":   {"独居老人几天没出门，请去看看", "想问低保怎么申请", "残疾人补贴还没到账", "孩子上学需要开证明"},
		"hukou":    {"户口迁入需要哪些材料", "身份证丢了，想问怎么补办", "新生儿上户口要去哪里办"},
		"farm":     {"水稻田灌溉渠没水", "鱼塘有病死鱼，想请技术员看看", "田边排洪沟塌了", "农药包装乱丢在田头"},
		"other":    {"想反映一个问题，请网格员联系我", "村委会电话打不通", "公告栏内容太旧，请更新"},
	}
	details = []string{"", "，已经一个多星期了", "，麻烦尽快处理", "，之前反映过还没解决", "，影响很多住户", "，晚上尤其严重", "，谢谢"}
	replies = []string{"您好，已收到，我们马上安排人员到现场查看。", "已联系相关人员，今天下午处理。", "正在协调，请耐心等待。", "已到现场，正在处理中。"}
	results = []string{"已清理完毕，现场恢复正常。", "已更换损坏部件，恢复使用。", "已调解，双方达成一致。", "已上门走访并落实帮扶。", "已按程序办理，并告知居民。", "已协调部门处置完毕。"}
	places  = []string{"号旁", "号门口", "巷口", "路段", "桥头", "祠堂前", "市场边", "学校附近"}
)

func pick(rng *rand.Rand, list []string) string { return list[rng.IntN(len(list))] }

func caseText(rng *rand.Rand, category string) string {
	list := matters[category]
	if len(list) == 0 {
		list = matters["other"]
	}
	return pick(rng, list) + pick(rng, details)
}

func replyText(rng *rand.Rand) string  { return pick(rng, replies) }
func resultText(rng *rand.Rand) string { return pick(rng, results) }

// placeLabel is a place in the grid's village as a resident names it.
func placeLabel(rng *rand.Rand, town *core.Town, g *core.Grid) string {
	name := g.Village
	if v := town.Village(g.Village); v != nil {
		name = v.Name
	}
	return name + strconv.Itoa(1+rng.IntN(120)) + pick(rng, places)
}

// inside is a point within the grid's boundary box (the grids are drawn
// as boxes), or near the town's first grid's when it has none.
func inside(rng *rand.Rand, g *core.Grid) core.Point {
	if len(g.Boundary) == 0 {
		return core.Point{Lat: 22.35 + rng.Float64()*0.01, Lng: 112.56 + rng.Float64()*0.01}
	}
	lo, hi := g.Boundary[0], g.Boundary[0]
	for _, p := range g.Boundary[1:] {
		lo.Lat, lo.Lng = min(lo.Lat, p.Lat), min(lo.Lng, p.Lng)
		hi.Lat, hi.Lng = max(hi.Lat, p.Lat), max(hi.Lng, p.Lng)
	}
	return core.Point{Lat: lo.Lat + rng.Float64()*(hi.Lat-lo.Lat), Lng: lo.Lng + rng.Float64()*(hi.Lng-lo.Lng)}
}
