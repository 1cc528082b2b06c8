package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/objectstore/files"
	"gridbot/objectstore/s3"
)

// openObjects opens where media are kept (media.store): a folder (media/
// beside the store's file unless media.dir says otherwise) or an S3 bucket.
func openObjects(ctx context.Context, cfg *configs.Config, log *slog.Logger) (core.ObjectStore, error) {
	if cfg.Media.Store == "s3" {
		c := cfg.Media.S3
		st, err := s3.Open(ctx, s3.Config{Endpoint: c.Endpoint, Bucket: c.Bucket, AccessKey: c.AccessKey,
			SecretKey: c.SecretKey, Region: c.Region, Secure: c.Secure, MaxBytes: core.DefaultMaxMediaBytes + core.MaxSealOverhead})
		if err != nil {
			return nil, fmt.Errorf("media: %w", err)
		}
		return st, nil
	}
	dir := cfg.Media.Dir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(cfg.Store.Path), "media")
	}
	if cfg.Store.Kind == "valkey" && log != nil {
		log.Warn("media are kept in a folder of this machine: instances on other machines do not see them; share the folder or set media.store: s3", "dir", dir)
	}
	// Room for the seal's few bytes on a photo of the largest size kept.
	st, err := files.Open(dir, core.DefaultMaxMediaBytes+core.MaxSealOverhead)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return st, nil
}

// recordMigrator is a store that moves records to the layout of one key per
// record (Valkey; the embedded store always had it).
type recordMigrator interface {
	MigrateRecords(ctx context.Context) (int, error)
}

// migrate moves what an older version kept in the store: media bytes into
// the object store, then (Valkey) records out of their old hashes. Both may
// run while the service serves, and again; serve runs them at start.
func migrate(ctx context.Context, st core.Records, pager core.RecordPager, media *core.MediaStore, log *slog.Logger) error {
	moved, err := media.MigrateMedia(ctx, pager)
	if err != nil {
		return fmt.Errorf("migrate media: %w", err)
	}
	if moved > 0 {
		log.Info("media moved out of the store into the object store", "files", moved)
	}
	if m, ok := st.(recordMigrator); ok {
		n, err := m.MigrateRecords(ctx)
		if err != nil {
			return fmt.Errorf("migrate records: %w", err)
		}
		if n > 0 {
			log.Info("records moved to one key each", "records", n)
		}
	}
	return nil
}

// runMigrate is `gridbot migrate`: the start-up migrations, run to the end
// and reported.
func runMigrate(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	townKey := townFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, _, _, err := openConfiguredTown(ctx, *configPath, *townKey, env, "gridbot-migrate")
	if err != nil {
		return fmt.Errorf("migrate: %w (with the embedded store, stop serve first)", err)
	}
	defer b.close()
	log := newLogger(env.Stdout, "text", "info")
	media := &core.MediaStore{Records: b.store, Objects: b.objects}
	if err := migrate(ctx, b.store, b.store, media, log); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "migrated: media are in the object store, records one key each")
	return nil
}
