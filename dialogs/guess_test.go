package dialogs_test

import (
	"testing"

	"gridbot/configs"
	"gridbot/dialogs"
)

// guessTable is what residents really write, each with the category of the
// sample list (configs/categories.yaml) it belongs to. A guess is right
// when the expected category is the first guess, or the second of two
// close ones offered as a choice.
var guessTable = []struct {
	text, want string
}{
	// 环境卫生
	{"门口这个水渠堵了，好臭", "env"},
	{"村口垃圾好几天没人清运了", "env"},
	{"菜市场后面的水沟都是黑水，蚊子很多", "env"},
	{"有人在河边乱倒建筑垃圾", "env"},
	{"公厕太脏了，一直没人打扫", "env"},
	{"我们巷子的下水道又堵住了，污水漫到路上", "env"},
	{"隔壁天天在空地烧垃圾，烟很大", "env"},
	{"河道里面漂浮物很多，还有死鱼", "env"},
	{"垃圾桶满出来了，臭得不行", "env"},
	{"楼下化粪池满了往外冒", "env"},
	// 道路照明
	{"村口路灯坏了一个星期，晚上很黑", "light"},
	{"新村路那排路灯都不亮了", "light"},
	{"学校门口晚上黑漆漆的，没有灯", "light"},
	{"路灯白天也亮着，浪费电", "light"},
	{"桥头那盏灯一闪一闪的", "light"},
	{"灯杆被车撞歪了，灯泡也掉了", "light"},
	{"小区后门照明太差，晚上摸黑走路", "light"},
	// 道路交通
	{"公路上有个大坑，摩托车差点摔倒", "road"},
	{"井盖不见了，很危险", "road"},
	{"十字路口红绿灯坏了，车乱开", "road"},
	{"市场门口天天乱停车，堵得走不了", "road"},
	{"路面塌陷了一块", "road"},
	{"学校门口需要装减速带，车开太快", "road"},
	{"桥上的护栏断了", "road"},
	{"泥头车超速，把路都压烂了", "road"},
	{"斑马线都磨没了，过马路不安全", "road"},
	{"路牌被风吹倒了", "road"},
	// 矛盾纠纷
	{"邻居把围墙砌到我家地界上，说了不听", "dispute"},
	{"楼上漏水到我家，他不肯赔偿", "dispute"},
	{"老板拖欠我们三个月工钱", "dispute"},
	{"兄弟两个为了宅基地吵架，请帮忙调解", "dispute"},
	{"房东不退押金", "dispute"},
	{"婆媳矛盾很大，天天吵", "dispute"},
	{"隔壁两家打架了，需要人来调解一下", "dispute"},
	// 治安隐患
	{"昨晚家里被偷了，电动车不见了", "security"},
	{"村里最近有几个陌生人到处转，很可疑", "security"},
	{"有人在出租屋私拉电线给电动车充电", "security"},
	{"老人接到诈骗电话，被骗了钱", "security"},
	{"有人在祠堂聚众赌博", "security"},
	{"这栋旧房子是危房，随时会倒塌", "security"},
	{"闻到很浓的煤气味，怕出事", "security"},
	{"仓库着火了，冒浓烟", "security"},
	// 社保咨询
	{"我妈的养老金这个月没到账", "social"},
	{"想问下医保怎么报销", "social"},
	{"低保怎么申请", "social"},
	{"社保卡丢了要去哪里补", "social"},
	{"残疾证办下来可以领什么补贴", "social"},
	{"失业了能不能领失业金", "social"},
	{"高龄补贴今年还有吗", "social"},
	// 户政
	{"小孩出生了要怎么上户口", "hukou"},
	{"身份证快过期了，在哪里办", "hukou"},
	{"想把户口迁回村里", "hukou"},
	{"居住证怎么办理", "hukou"},
	{"户口本丢了要补办", "hukou"},
	{"结婚后想分户", "hukou"},
	// 农业农村
	{"田里的水稻得了病虫害，叶子都黄了", "farm"},
	{"灌溉的水渠没水了，庄稼快旱死了", "farm"},
	{"有人把耕地抛荒了好几年", "farm"},
	{"鱼塘的鱼死了很多，不知道什么原因", "farm"},
	{"想问下农机补贴怎么申请", "farm"},
	{"养的鸡发瘟了，死了一半", "farm"},
	{"台风把果树都吹倒了", "farm"},
	{"村里想搞土地流转，要找谁", "farm"},
}

func TestGuessTable(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	if len(guessTable) < 60 {
		t.Fatalf("the table has %d messages; keep at least 60", len(guessTable))
	}
	right := 0
	for _, tt := range guessTable {
		if town.Category(tt.want) == nil {
			t.Fatalf("%q: no category %q in the sample list", tt.text, tt.want)
		}
		got := dialogs.GuessCategory(town, tt.text)
		ok := false
		for _, g := range got {
			ok = ok || g.Code == tt.want
		}
		if ok {
			right++
			continue
		}
		t.Logf("wrong: %q want %s, got %v (all scores %v)", tt.text, tt.want, got, dialogs.ScoreCategories(town, tt.text))
	}
	share := float64(right) / float64(len(guessTable))
	t.Logf("category guess: %d of %d right (%.1f%%)", right, len(guessTable), 100*share)
	if share < 0.85 {
		t.Errorf("category guess is right for %.1f%% of the table; want at least 85%%", 100*share)
	}
}

// Issue 12: a village's name decided the category ("石桥村" holds 桥, a road
// cue). Names from the town directory never count.
func TestPlaceNamesAreNotCues(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{"石桥村有户人家天天半夜打麻将很吵", "dispute"},
		{"龙头桥旁边有人乱倒垃圾", "env"},
	} {
		got := dialogs.GuessCategory(town, tt.text)
		for _, g := range got {
			if g.Code == "road" {
				t.Errorf("%q guessed 道路交通 from a place name: %v", tt.text, got)
			}
		}
		if len(got) == 0 || got[0].Code != tt.want {
			t.Errorf("%q: got %v, want %s first", tt.text, got, tt.want)
		}
	}
}
