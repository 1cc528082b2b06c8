package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
	"gridbot/script"
	"gridbot/store"
	"gridbot/store/embedded"
	valkeystore "gridbot/store/valkey"
)

// backend is a deployment's store and transport: the one switch between
// the embedded default and Valkey. Everything else is the same code.
type backend struct {
	store store.Store
	// shared is where instances share what must be one for the service
	// (the access token); nil when the store is this process's alone.
	shared core.Ephemeral
	// ping answers whether the store and transport are reachable.
	ping func(context.Context) error
	// publisher carries events; the router's poison queue publishes to it.
	publisher     message.Publisher
	subscriberFor routing.SubscriberFor
	// relay feeds the transport from the store's outbox, where the store
	// does not publish in its own transactions.
	relay *routing.Relay
	// staffStore, when set, is the same store on connections of its own,
	// for the console's reads (Valkey).
	staffStore store.Store
	// objects keeps media files (media.store), outside the store, sealed
	// with keys when there are keys.
	objects core.ObjectStore
	// script reads traditional characters; the store's word index reads
	// them with it, so wire hands the same one to the rest.
	script *script.Converter
	// keys seal personal data at rest (crypto.key_file, crypto.keys).
	keys dataKeys
	// background runs beside the router until the service stops (the
	// Valkey stream's trimmer).
	background []func(context.Context)
	// close releases the transport after the router stopped, then the store.
	close func() error
	// account, for a town of a city, is what the one official account
	// shares among the towns; nil for a single town.
	account *sharedAccount
}

func openBackend(ctx context.Context, cfg *configs.Config, town *core.Town, instance string, log *slog.Logger) (*backend, error) {
	keys, err := loadDataKeys(cfg)
	if err != nil {
		return nil, err
	}
	objects, err := openObjects(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	conv, err := script.New()
	if err != nil {
		return nil, err
	}
	search := searchRule(conv)
	// With data keys the word index keeps keyed digests of its terms
	// (HMAC-SM3), not words; a store indexed without them is indexed
	// again when opened.
	search.Blind = keys.termBlinder()
	var b *backend
	switch cfg.Store.Kind {
	case "valkey":
		b, err = openValkey(ctx, cfg, town, instance, search, keys, log)
	default:
		b, err = openEmbedded(cfg, town, search, keys, log)
	}
	if err != nil {
		return nil, err
	}
	b.objects, b.script, b.keys = keys.sealObjects(objects), conv, keys
	return b, nil
}

func openEmbedded(cfg *configs.Config, town *core.Town, search core.SearchIndex, keys dataKeys, log *slog.Logger) (*backend, error) {
	st, err := embedded.Open(cfg.Store.Path, embedded.Options{CasePrefix: town.CasePrefix, Log: log,
		Figures: core.FigureRule{Town: town, Rules: cfg.Rules()}, Search: search, Sealer: keys.sealer()})
	if err != nil {
		return nil, err
	}
	// In process every subscription sees every message, so one GoChannel
	// serves every handler. The router closes subscribers it stops; the
	// GoChannel is closed once more, by us, after the router has stopped
	// (watermill issue #446).
	bus := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	return &backend{
		store: st,
		ping: func(ctx context.Context) error {
			_, err := st.Cases(ctx, core.CaseQuery{Limit: 1})
			return err
		},
		publisher:     bus,
		subscriberFor: func(string, bool) (message.Subscriber, error) { return bus, nil },
		relay:         &routing.Relay{Outbox: st, Publisher: bus, Log: log},
		close: func() error {
			bus.Close()
			return st.Close()
		},
	}, nil
}

func openValkey(ctx context.Context, cfg *configs.Config, town *core.Town, instance string, search core.SearchIndex, keys dataKeys, log *slog.Logger) (*backend, error) {
	st, err := valkeystore.Open(ctx, valkeystore.Options{Addr: cfg.Valkey.Addr, Password: cfg.Valkey.Password,
		DB: cfg.Valkey.DB, Prefix: cfg.Valkey.Prefix, Tag: cfg.Valkey.Tag, CasePrefix: town.CasePrefix,
		Figures: core.FigureRule{Town: town, Rules: cfg.Rules()}, Search: search, Sealer: keys.sealer()})
	if err != nil {
		return nil, err
	}
	staffSt, err := valkeystore.Open(ctx, valkeystore.Options{Addr: cfg.Valkey.Addr, Password: cfg.Valkey.Password,
		DB: cfg.Valkey.DB, Prefix: cfg.Valkey.Prefix, Tag: cfg.Valkey.Tag, CasePrefix: town.CasePrefix, Search: search, Sealer: keys.sealer()})
	if err != nil {
		st.Close()
		return nil, err
	}
	if warnings, err := st.CheckDurability(ctx); err != nil {
		log.Warn("could not check the Valkey server's durability settings", "err", err)
	} else {
		for _, w := range warnings {
			log.Warn("Valkey server setting risks losing cases", "warning", w)
		}
	}
	wmLog := watermill.NewSlogLoggerWithLevelMapping(log.With("part", "valkeystream"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	pub, err := valkeystream.NewPublisher(valkeystream.Config{Client: st.Client(), Prefix: cfg.Valkey.Prefix, Tag: cfg.Valkey.Tag, Logger: wmLog})
	if err != nil {
		st.Close()
		staffSt.Close()
		return nil, err
	}
	// Every instance trims the streams to what every work group and live
	// console feed still needs, so the stream stays as long as the backlog
	// (issue 21), not the ledger's whole history.
	trimmer, err := valkeystream.NewTrimmer(valkeystream.TrimConfig{Client: st.Client(), Prefix: cfg.Valkey.Prefix, Tag: cfg.Valkey.Tag,
		Topics: []string{routing.TopicCaseEvents, routing.TopicPoison}, Every: cfg.Valkey.TrimEvery,
		Transient: routing.IsFeedGroup, Logger: wmLog})
	if err != nil {
		st.Close()
		staffSt.Close()
		return nil, err
	}
	return &backend{
		background: []func(context.Context){trimmer.Run},
		store:      st,
		staffStore: staffSt,
		shared:     st,
		ping:       st.Ping,
		publisher:  pub,
		subscriberFor: func(group string, fromNow bool) (message.Subscriber, error) {
			c := valkeystream.Config{Client: st.Client(), Prefix: cfg.Valkey.Prefix, Tag: cfg.Valkey.Tag, ConsumerGroup: group,
				Consumer: instance, MinIdle: cfg.Valkey.ClaimIdle, Logger: wmLog}
			if fromNow {
				// This instance's console feed: it reads the log itself,
				// so one event at a time is plenty.
				c.GroupStartID = "$"
			} else if cfg.Valkey.Workers > 1 {
				// Work shared by the instances: several events at once,
				// each worker taking one at a time so that a burst is
				// spread over them.
				c.Workers, c.ReadCount = cfg.Valkey.Workers, 1
			}
			return valkeystream.NewSubscriber(c)
		},
		close: func() error {
			if err := pub.Close(); err != nil {
				log.Warn("closing the publisher", "err", err)
			}
			staffSt.Close()
			if err := st.Close(); err != nil {
				return fmt.Errorf("close valkey store: %w", err)
			}
			return nil
		},
	}, nil
}

// openConfigured loads the configuration and the town and opens the store
// they name, for the commands that work on a store outside serve (staff,
// export). The caller closes the backend.
func openConfigured(ctx context.Context, configPath string, env Env, name string) (*backend, *core.Town, *configs.Config, error) {
	return openConfiguredTown(ctx, configPath, "", env, name)
}

// townFlag is a store command's -town: which town's store, in a
// configuration with towns: (openConfiguredTown).
func townFlag(fs *flag.FlagSet) *string {
	return fs.String("town", "", "the town's key, in a configuration with towns:")
}

// openConfiguredTown is openConfigured for one town of a city (-town KEY);
// townKey is "" for a configuration without towns.
func openConfiguredTown(ctx context.Context, configPath, townKey string, env Env, name string) (*backend, *core.Town, *configs.Config, error) {
	cfg, err := configs.Load(configPath, env.Environ)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg, err = townConfig(cfg, townKey); err != nil {
		return nil, nil, nil, err
	}
	town, err := configs.LoadTownFiles(configs.TownFiles{Directory: cfg.Town.Directory,
		Categories: cfg.Town.Categories, Lexicon: cfg.Town.Lexicon})
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := openBackend(ctx, cfg, town, name, newLogger(env.Stderr, "text", "warn"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open the store: %w", err)
	}
	return b, town, cfg, nil
}
