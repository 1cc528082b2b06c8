package routing_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"gridbot/core"
	"gridbot/routing"
	"gridbot/store/embedded"
)

// BenchmarkRelay files cases from 8 residents at once and waits until
// every case is assigned, its leader told, and the outbox empty: what the
// outbox's wait for the handlers costs beside clearing it on publishing
// (the relay without a router to await, as before).
//
//	go test -run '^$' -bench Relay -benchtime 2000x ./routing/
func BenchmarkRelay(b *testing.B) {
	for _, awaited := range []bool{false, true} {
		name := "cleared-on-publish"
		if awaited {
			name = "cleared-when-handled"
		}
		b.Run(name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st, err := embedded.Open(filepath.Join(b.TempDir(), "g.db"), embedded.Options{CasePrefix: "ST"})
			if err != nil {
				b.Fatal(err)
			}
			town := sampleTown(b, false)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			ledger := &core.Ledger{Store: st, Town: town}
			notes := &fakeNotifier{}
			bus := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
			relay := &routing.Relay{Outbox: st, Publisher: bus, Log: log}
			cfg := routing.Config{Instance: "b"}
			if awaited {
				cfg.Relay = relay
			}
			h := &routing.Handlers{Ledger: ledger, Town: town, Notifier: notes, Marks: st, Log: log,
				Feed: func(core.Event, core.Case) {}}
			router, err := routing.NewRouter(cfg, h, func(string, bool) (message.Subscriber, error) { return bus, nil }, bus)
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { router.Run(ctx); close(done) }()
			<-router.Running()
			go relay.Run(ctx)
			defer func() { cancel(); <-done; bus.Close(); st.Close() }()

			b.ResetTimer()
			var wg sync.WaitGroup
			per := (b.N + 7) / 8
			for w := range 8 {
				wg.Go(func() {
					for i := range per {
						if _, err := ledger.Submit(ctx, fmt.Sprintf("ores-%d-%d", w, i),
							core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			for {
				pending, _ := st.PendingEvents(ctx, 1)
				if len(notes.to("osample-L10-a")) >= per*8 && len(pending) == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}
