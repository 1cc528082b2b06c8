package script_test

import (
	"testing"

	"gridbot/script"
)

func TestConvert(t *testing.T) {
	c, err := script.New()
	if err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		for _, tt := range []struct{ in, simplified string }{
			{"身份證過期了", "身份证过期了"},
			{"村口路燈壞咗", "村口路灯坏咗"},
			{"戶口本唔見咗", "户口本唔见咗"},
			{"電單車", "电单车"},
			{"村口路灯坏了", "村口路灯坏了"},
			{"13812345678", "13812345678"},
		} {
			if got := c.Simplified(tt.in); got != tt.simplified {
				t.Errorf("%s: Simplified(%q) = %q, want %q", stage, tt.in, got, tt.simplified)
			}
			if got := c.IsTraditional(tt.in); got != (tt.in != tt.simplified) {
				t.Errorf("%s: IsTraditional(%q) = %v", stage, tt.in, got)
			}
		}
	}
	check("while the table is built") // whichever way it reads now, the same answers
	if got := c.Traditional("提交成功！编号：0001，网格长受理后会通知您。"); got != "提交成功！編號：0001，網格長受理後會通知您。" {
		t.Errorf("Traditional = %q", got)
	}
	c.Wait()
	check("with the table")
}

func BenchmarkSimplified(b *testing.B) {
	c, err := script.New()
	if err != nil {
		b.Fatal(err)
	}
	c.Wait()
	b.ReportAllocs()
	for b.Loop() {
		c.Simplified("我哋條村嗰度嘅路燈壞咗成個禮拜，夜晚好黑，麻煩你哋嚟整下")
	}
}

func BenchmarkSimplifiedAlready(b *testing.B) {
	c, err := script.New()
	if err != nil {
		b.Fatal(err)
	}
	c.Wait()
	b.ReportAllocs()
	for b.Loop() {
		c.Simplified("我们村那边的路灯坏了一个星期，晚上很黑，麻烦你们来修一下")
	}
}
