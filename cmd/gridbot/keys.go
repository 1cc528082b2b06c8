package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/sealing"
)

// dataKeys are the keys that seal personal data at rest (crypto.key_file
// or crypto.keys); the zero value writes plain.
type dataKeys struct{ ring *sealing.Keyring }

// loadDataKeys reads the configured data keys, if any.
func loadDataKeys(cfg *configs.Config) (dataKeys, error) {
	switch {
	case cfg.Crypto.KeyFile != "":
		k, err := sealing.Load(cfg.Crypto.KeyFile)
		if err != nil {
			return dataKeys{}, fmt.Errorf("crypto.key_file: %w", err)
		}
		return dataKeys{k}, nil
	case cfg.Crypto.Keys != "":
		k, err := sealing.Parse(cfg.Crypto.Keys)
		if err != nil {
			return dataKeys{}, fmt.Errorf("crypto.keys: %w", err)
		}
		return dataKeys{k}, nil
	}
	return dataKeys{}, nil
}

// sealer is the keys as a core.Sealer: nil (an untyped nil, which the
// stores read as plain) without keys.
func (k dataKeys) sealer() core.Sealer {
	if k.ring == nil {
		return nil
	}
	return k.ring
}

// blinder is the keys as a core.Blinder, or nil.
func (k dataKeys) blinder() core.Blinder {
	if k.ring == nil {
		return nil
	}
	return k.ring
}

// termBlinder is the keys as the word index's core.TermBlinder, or nil.
func (k dataKeys) termBlinder() core.TermBlinder {
	if k.ring == nil {
		return nil
	}
	return k.ring
}

// sealObjects seals the media objects when there are keys.
func (k dataKeys) sealObjects(o core.ObjectStore) core.ObjectStore {
	if k.ring == nil || o == nil {
		return o
	}
	return core.SealedObjects{Objects: o, Sealer: k.ring}
}

const keysUsage = `usage:
  gridbot keys new -file FILE      write a new key file (an index key and data key k1), mode 0600
  gridbot keys rotate -file FILE   add a new data key on top: new data is sealed with it, the older
                                   keys stay to read what they sealed (restart serve to use it)
  gridbot keys reseal [-config F] [-town K]
                                   seal everything sealed with an older key, or written plain, with
                                   the current key (embedded store: serve stopped); in a city every
                                   town in turn, or the one -town names
`

// runKeys is gridbot keys: the data keys' file and the data sealed with them.
func runKeys(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, keysUsage)
		return errors.New("keys: no command")
	}
	cmd := args[0]
	fl := flag.NewFlagSet("keys "+cmd, flag.ContinueOnError)
	fl.SetOutput(env.Stderr)
	file := fl.String("file", "", "the key file")
	configPath := fl.String("config", "", "YAML configuration file (reseal)")
	townKey := townFlag(fl)
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	switch cmd {
	case "new":
		if *file == "" {
			return errors.New("keys new: -file is required")
		}
		if err := writeNewKeyFile(*file); err != nil {
			return fmt.Errorf("keys new: %w", err)
		}
		fmt.Fprintf(env.Stdout, "wrote %s: set crypto.key_file to it, and keep a copy apart from the data's backups\n", *file)
		return nil
	case "rotate":
		if *file == "" {
			return errors.New("keys rotate: -file is required")
		}
		if _, err := sealing.Load(*file); err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		raw, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		text, id, err := sealing.Rotate(string(raw))
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		if err := writeFileAtomic(*file, []byte(text)); err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		fmt.Fprintf(env.Stdout, "added data key %s to %s: restart serve (every instance) to seal with it; gridbot keys reseal re-seals the older data\n", id, *file)
		return nil
	case "reseal":
		return runReseal(ctx, *configPath, *townKey, env)
	}
	fmt.Fprint(env.Stderr, keysUsage)
	return fmt.Errorf("keys: unknown command %q", cmd)
}

// writeNewKeyFile writes a new key file at path, refusing to replace one.
func writeNewKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: a new key would leave what the old one sealed unreadable (rotate instead)", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(sealing.NewFile()))
}

// writeFileAtomic replaces path with data (mode 0600) through a renamed
// temporary file, so a crash leaves the old file or the new, never half.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// resealer is a store that can seal its data again with the current key.
type resealer interface {
	Reseal(ctx context.Context) (int, error)
}

// runReseal is gridbot keys reseal: after a rotation, everything sealed
// with an older key (or written plain before the keys) is sealed with the
// current one, in the store and in the media objects; then the older keys
// may leave the key file. The towns of a city share the keys, so without
// -town every town is resealed, one after another.
func runReseal(ctx context.Context, configPath, townKey string, env Env) error {
	cfg, err := configs.Load(configPath, env.Environ)
	if err != nil {
		return fmt.Errorf("keys reseal: %w", err)
	}
	if townKey != "" || !cfg.HasTowns() {
		return resealTown(ctx, configPath, townKey, env)
	}
	for _, t := range cfg.Towns {
		if err := resealTown(ctx, configPath, t.Key, env); err != nil {
			return fmt.Errorf("town %s: %w", t.Key, err)
		}
	}
	return nil
}

// resealTown reseals one town's store and media (townKey "" without towns).
func resealTown(ctx context.Context, configPath, townKey string, env Env) error {
	b, _, _, err := openConfiguredTown(ctx, configPath, townKey, env, "gridbot-keys")
	if err != nil {
		return fmt.Errorf("keys reseal: %w (with the embedded store, stop serve first)", err)
	}
	defer b.close()
	if b.keys.ring == nil {
		return errors.New("keys reseal: no data keys configured (crypto.key_file or crypto.keys)")
	}
	rs, ok := b.store.(resealer)
	if !ok {
		return errors.New("keys reseal: this store cannot reseal")
	}
	n, err := rs.Reseal(ctx)
	if err != nil {
		return fmt.Errorf("keys reseal: %w", err)
	}
	objects := 0
	if sealed, ok := b.objects.(core.SealedObjects); ok {
		for cursor := ""; ; {
			ids, next, err := b.store.RecordKeys(ctx, "media", cursor, 200)
			if err != nil {
				return fmt.Errorf("keys reseal: media: %w", err)
			}
			for _, id := range ids {
				did, err := sealed.Reseal(ctx, core.MediaObjectKey(id))
				if err != nil {
					return fmt.Errorf("keys reseal: %w", err)
				}
				if did {
					objects++
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	town := ""
	if townKey != "" {
		town = townKey + ": "
	}
	fmt.Fprintf(env.Stdout, "%sresealed with key %s: %d values in the store, %d media files\n", town, b.keys.ring.KeyID(), n, objects)
	return nil
}
