package wxpages

import (
	"net/http"
	"strconv"
	"testing"
)

// The pages' own cost on top of the store, measured: a leader's page data,
// a resident's, and a reply posted through the page (multipart, CSRF,
// session, policy, store write).

func BenchmarkStaffCaseView(b *testing.B) {
	f := newFixture(b)
	p := f.phone(b, oLead1)
	p.login(b)
	b.ResetTimer()
	for b.Loop() {
		if status := p.get(b, "/wx/api/cases/"+f.number, nil); status != http.StatusOK {
			b.Fatal(status)
		}
	}
}

func BenchmarkResidentCaseView(b *testing.B) {
	f := newFixture(b)
	p := f.phone(b, oResident)
	p.login(b)
	b.ResetTimer()
	for b.Loop() {
		if status := p.get(b, "/wx/api/cases/"+f.number, nil); status != http.StatusOK {
			b.Fatal(status)
		}
	}
}

func BenchmarkReplyThroughPage(b *testing.B) {
	f := newFixture(b)
	p := f.phone(b, oLead1)
	p.login(b)
	p.f.srv.limits.counted = nil
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		if i%postsPerMinute == 0 {
			// Past the per-reader bound: the next minute.
			f.clock.Add(61e9)
		}
		if code, body := p.step(b, f.number, "reply", map[string]string{"text": "第" + strconv.Itoa(i) + "次回复"}); code != http.StatusOK {
			b.Fatal(code, body)
		}
	}
}
