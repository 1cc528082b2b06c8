package console

import (
	"reflect"
	"testing"
)

func TestDecodeFeed(t *testing.T) {
	for _, tt := range []struct {
		data string
		want []FeedEvent
		err  bool
	}{
		{`{"type":"event","seq":7,"event":{"seq":7,"case":"ST1","kind":"submitted"},"case":{"number":"ST1"}}`,
			[]FeedEvent{{7, "ST1", "submitted"}}, false},
		{`{"type":"events","seq":9,"events":[{"type":"event","seq":8,"event":{"seq":8,"case":"ST1","kind":"assigned"}},{"type":"event","seq":9,"event":{"seq":9,"case":"ST2","kind":"replied"}}]}`,
			[]FeedEvent{{8, "ST1", "assigned"}, {9, "ST2", "replied"}}, false},
		{`{"type":"ping","seq":9}`, nil, false},
		{`{"type":"resync"}`, nil, false},
		{`not json`, nil, true},
	} {
		got, err := DecodeFeed([]byte(tt.data))
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v %v, want %+v", tt.data, got, err, tt.want)
		}
	}
}
