package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// nsMedia is the Records namespace of kept media, keyed by WeChat media ID.
const nsMedia = "media"

// DefaultMaxMediaBytes bounds one kept photo or voice note.
const DefaultMaxMediaBytes = 2 << 20

// Media kinds.
const (
	MediaImage = "image"
	MediaVoice = "voice"
)

// MediaFile is a photo or voice note fetched from WeChat (whose copies
// expire after three days) and kept with its case, for staff to view.
type MediaFile struct {
	ID          string    `json:"id"`
	Case        string    `json:"case"`
	Kind        string    `json:"kind"` // MediaImage or MediaVoice
	ContentType string    `json:"content_type"`
	Data        []byte    `json:"data,omitempty"`
	At          time.Time `json:"at"`
	// Size is the length of Data, which an object store keeps (the record
	// then holds no data).
	Size int `json:"size,omitempty"`
}

// ObjectStore keeps blobs by key, outside the ledger's store: media files in
// the data folder, or in an S3-compatible bucket. Keys are made of letters,
// digits and "/._-"; a store may refuse others (ErrInvalid).
type ObjectStore interface {
	// PutObject stores data under key, replacing what was there; when it
	// returns the object is durable and whole, never half written.
	PutObject(ctx context.Context, key string, data []byte) error
	// Object returns the object's bytes and true, or false when there is
	// none.
	Object(ctx context.Context, key string) ([]byte, bool, error)
	// DeleteObject removes the object; a missing one is not an error.
	DeleteObject(ctx context.Context, key string) error
}

// MaxObjectKeyLen bounds an object key, so that a file named after it
// stays within the 255 bytes file systems allow.
const MaxObjectKeyLen = 200

// ValidObjectKey tells a key every ObjectStore accepts: letters, digits and
// "._-", in segments separated by single slashes, none of them "." or "..",
// at most MaxObjectKeyLen bytes.
func ValidObjectKey(key string) bool {
	if key == "" || len(key) > MaxObjectKeyLen {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// MediaStore keeps media files: what a file is (its case, kind and type) as
// a small durable record, its bytes in Objects. Files kept before there was
// an object store hold their bytes in the record, and are served from it
// until MigrateMedia moves them.
type MediaStore struct {
	Records Records
	// Objects keeps the bytes; nil keeps them in the record, as before
	// (the stores' tests).
	Objects ObjectStore
	// MaxBytes bounds a file; zero means DefaultMaxMediaBytes.
	MaxBytes int
}

// MediaObjectKey is where a media file's bytes are kept in the object
// store.
func MediaObjectKey(id string) string { return "media/" + id }

// validMediaID tells an ID that can name an object: WeChat's media IDs and
// the pages' own are letters, digits, '-' and '_'.
func validMediaID(id string) bool {
	return !strings.Contains(id, "/") && ValidObjectKey(MediaObjectKey(id))
}

func (m *MediaStore) max() int {
	if m.MaxBytes > 0 {
		return m.MaxBytes
	}
	return DefaultMaxMediaBytes
}

// Put keeps f. A file over the size bound, or with an ID that cannot name
// an object, is ErrInvalid. The bytes are stored before the record that
// points to them, so a record never names bytes that are not there.
func (m *MediaStore) Put(ctx context.Context, f MediaFile) error {
	if f.Case == "" || !validMediaID(f.ID) || len(f.Data) == 0 || len(f.Data) > m.max() {
		return fmt.Errorf("keep media (%d bytes): %w", len(f.Data), ErrInvalid)
	}
	f.Size = len(f.Data)
	if m.Objects != nil {
		if err := m.Objects.PutObject(ctx, MediaObjectKey(f.ID), f.Data); err != nil {
			return fmt.Errorf("keep media: %w", err)
		}
		f.Data = nil
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("keep media: %w", err)
	}
	return wrapErr("keep media", m.Records.PutRecord(ctx, nsMedia, f.ID, raw))
}

// Get returns the kept file with id; ok is false when there is none.
func (m *MediaStore) Get(ctx context.Context, id string) (MediaFile, bool, error) {
	if !validMediaID(id) {
		return MediaFile{}, false, nil
	}
	raw, ok, err := m.Records.Record(ctx, nsMedia, id)
	if err != nil || !ok {
		return MediaFile{}, false, wrapErr("media", err)
	}
	var f MediaFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return MediaFile{}, false, fmt.Errorf("media: decode: %w", err)
	}
	if len(f.Data) > 0 || m.Objects == nil {
		// Kept before the object store (or without one).
		return f, len(f.Data) > 0, nil
	}
	data, ok, err := m.Objects.Object(ctx, MediaObjectKey(id))
	if err != nil || !ok {
		return MediaFile{}, false, wrapErr("media", err)
	}
	f.Data = data
	return f, true, nil
}

// Holds reports whether case c carries media id, and of which kind.
func (c *Case) Holds(id string) (kind string, ok bool) {
	for _, p := range c.Photos {
		if p.MediaID == id {
			return MediaImage, true
		}
	}
	for _, v := range c.Voices {
		if v.MediaID == id {
			return MediaVoice, true
		}
	}
	return "", false
}

// Delete erases kept media, bytes first and then the record, so an erasure
// cut short is done again from the record; missing IDs are not an error.
func (m *MediaStore) Delete(ctx context.Context, ids ...string) error {
	for _, id := range ids {
		if !validMediaID(id) {
			continue // never kept: Put refuses such an ID
		}
		if m.Objects != nil {
			if err := m.Objects.DeleteObject(ctx, MediaObjectKey(id)); err != nil {
				return fmt.Errorf("delete media: %w", err)
			}
		}
		if err := m.Records.DeleteRecord(ctx, nsMedia, id); err != nil {
			return fmt.Errorf("delete media: %w", err)
		}
	}
	return nil
}

// RecordPager pages through the keys of a record namespace too large to
// read at once (see OneKeyPerRecord).
type RecordPager interface {
	// RecordKeys returns about count keys of namespace ns from the cursor
	// ("" to start) and the cursor to go on from ("" at the end). A key
	// may come more than once; every key present throughout comes.
	RecordKeys(ctx context.Context, ns, cursor string, count int) (keys []string, next string, err error)
}

// MigrateMedia moves the bytes of media kept in their records (before the
// object store) into Objects, one file at a time, and leaves each record
// with what the file is; moved counts them. It may run while the service
// serves (a file is readable throughout: the bytes are in the object store
// before the record stops holding them) and run again (moved files are
// skipped).
func (m *MediaStore) MigrateMedia(ctx context.Context, keys RecordPager) (moved int, err error) {
	if m.Objects == nil {
		return 0, fmt.Errorf("migrate media: no object store: %w", ErrInvalid)
	}
	cursor := ""
	for {
		ids, next, err := keys.RecordKeys(ctx, nsMedia, cursor, 100)
		if err != nil {
			return moved, fmt.Errorf("migrate media: %w", err)
		}
		for _, id := range ids {
			raw, ok, err := m.Records.Record(ctx, nsMedia, id)
			if err != nil {
				return moved, fmt.Errorf("migrate media %s: %w", id, err)
			}
			if !ok {
				continue
			}
			var f MediaFile
			if err := json.Unmarshal(raw, &f); err != nil || len(f.Data) == 0 {
				continue // moved already, or not a file
			}
			if !validMediaID(id) || f.ID != id {
				continue // cannot name an object; served from its record
			}
			if err := m.Objects.PutObject(ctx, MediaObjectKey(id), f.Data); err != nil {
				return moved, fmt.Errorf("migrate media %s: %w", id, err)
			}
			f.Size, f.Data = len(f.Data), nil
			if raw, err = json.Marshal(f); err != nil {
				return moved, fmt.Errorf("migrate media %s: %w", id, err)
			}
			// Erased meanwhile (注销, retention): the record is gone and
			// must stay gone, and so must the bytes just copied.
			if _, still, err := m.Records.Record(ctx, nsMedia, id); err != nil {
				return moved, fmt.Errorf("migrate media %s: %w", id, err)
			} else if !still {
				if err := m.Objects.DeleteObject(ctx, MediaObjectKey(id)); err != nil {
					return moved, fmt.Errorf("migrate media %s: %w", id, err)
				}
				continue
			}
			if err := m.Records.PutRecord(ctx, nsMedia, id, raw); err != nil {
				return moved, fmt.Errorf("migrate media %s: %w", id, err)
			}
			moved++
		}
		if next == "" {
			return moved, nil
		}
		cursor = next
	}
}
