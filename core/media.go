package core

import (
	"context"
	"encoding/json"
	"fmt"
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
	Data        []byte    `json:"data"`
	At          time.Time `json:"at"`
}

// MediaStore keeps media files as durable records.
type MediaStore struct {
	Records Records
	// MaxBytes bounds a file; zero means DefaultMaxMediaBytes.
	MaxBytes int
}

func (m *MediaStore) max() int {
	if m.MaxBytes > 0 {
		return m.MaxBytes
	}
	return DefaultMaxMediaBytes
}

// Put keeps f. A file over the size bound is ErrInvalid.
func (m *MediaStore) Put(ctx context.Context, f MediaFile) error {
	if f.ID == "" || f.Case == "" || len(f.Data) == 0 || len(f.Data) > m.max() {
		return fmt.Errorf("keep media (%d bytes): %w", len(f.Data), ErrInvalid)
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("keep media: %w", err)
	}
	return wrapErr("keep media", m.Records.PutRecord(ctx, nsMedia, f.ID, raw))
}

// Get returns the kept file with id; ok is false when there is none.
func (m *MediaStore) Get(ctx context.Context, id string) (MediaFile, bool, error) {
	raw, ok, err := m.Records.Record(ctx, nsMedia, id)
	if err != nil || !ok {
		return MediaFile{}, false, wrapErr("media", err)
	}
	var f MediaFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return MediaFile{}, false, fmt.Errorf("media: decode: %w", err)
	}
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

// Delete erases kept media; missing IDs are not an error.
func (m *MediaStore) Delete(ctx context.Context, ids ...string) error {
	for _, id := range ids {
		if err := m.Records.DeleteRecord(ctx, nsMedia, id); err != nil {
			return fmt.Errorf("delete media: %w", err)
		}
	}
	return nil
}
