package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Namespaces of the residents' records.
const (
	nsHousehold = "household" // openid → Household
	nsJoined    = "joined"    // openid → []JoinedCase
)

// OneKeyPerRecord tells the record namespaces that grow with the residents
// and their cases — household files, the cases each joined, what each kept
// photo or voice note is: a store keeps each such record under a key of its
// own (on Valkey, not all in one hash on one shard), and does not read the
// namespace whole (RecordsIn refuses it; RecordPager pages through it).
func OneKeyPerRecord(ns string) bool {
	switch ns {
	case nsHousehold, nsJoined, nsMedia, nsHouseholdPhone, nsHouseholdName:
		return true
	}
	return false
}

// OneKeyPerRecordNamespaces lists the namespaces OneKeyPerRecord tells, for
// a store's migration to that layout.
func OneKeyPerRecordNamespaces() []string {
	return []string{nsHousehold, nsJoined, nsMedia, nsHouseholdPhone, nsHouseholdName}
}

// Household is a resident's registered household file (一户一档): where they
// live and how to reach them, so the intake need not ask again.
type Household struct {
	OpenID  string `json:"openid"`
	Village string `json:"village"`
	Grid    string `json:"grid"`
	Address string `json:"address"`
	// Name is how the resident wishes to be called.
	Name         string    `json:"name"`
	Phone        string    `json:"phone,omitempty"`
	RegisteredAt time.Time `json:"registered_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// JoinedCase is a case a resident joined (附议), and whether they rated it.
type JoinedCase struct {
	Number string `json:"number"`
	Rated  bool   `json:"rated,omitempty"`
}

// Households keeps residents' household files and the cases they joined,
// as durable records keyed by openid.
type Households struct {
	Records Records
	// Media erases the voice notes of a resident who leaves (注销); nil
	// erases only their records (the stores' own tests).
	Media *MediaStore
	// Blind keys the phone index (household_phone.go); nil indexes by an
	// unkeyed hash, as before the data keys.
	Blind Blinder
}

// Household returns the resident's household file; ok is false when they
// have not registered.
func (h *Households) Household(ctx context.Context, openid string) (Household, bool, error) {
	raw, ok, err := h.Records.Record(ctx, nsHousehold, openid)
	if err != nil || !ok {
		return Household{}, false, wrapErr("household", err)
	}
	var hh Household
	if err := json.Unmarshal(raw, &hh); err != nil {
		return Household{}, false, fmt.Errorf("household: decode: %w", err)
	}
	return hh, true, nil
}

// SaveHousehold registers or changes a household file.
func (h *Households) SaveHousehold(ctx context.Context, hh Household) error {
	if hh.OpenID == "" || hh.Grid == "" {
		return fmt.Errorf("save household: %w", ErrInvalid)
	}
	raw, err := json.Marshal(hh)
	if err != nil {
		return fmt.Errorf("save household: %w", err)
	}
	old, had, err := h.Household(ctx, hh.OpenID)
	if err != nil {
		return fmt.Errorf("save household: %w", err)
	}
	if err := h.Records.PutRecord(ctx, nsHousehold, hh.OpenID, raw); err != nil {
		return fmt.Errorf("save household: %w", err)
	}
	var was *Household
	if had {
		was = &old
	}
	if err := h.indexPhone(ctx, was, hh); err != nil {
		return err
	}
	return h.indexName(ctx, was, hh)
}

// JoinedCases lists the cases the resident joined, oldest first.
func (h *Households) JoinedCases(ctx context.Context, openid string) ([]JoinedCase, error) {
	raw, ok, err := h.Records.Record(ctx, nsJoined, openid)
	if err != nil || !ok {
		return nil, wrapErr("joined cases", err)
	}
	var out []JoinedCase
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("joined cases: decode: %w", err)
	}
	return out, nil
}

// maxJoined bounds the joined cases remembered per resident; the oldest go.
const maxJoined = 50

// NoteJoined remembers that the resident joined case number, or, with
// rated, that they rated it.
func (h *Households) NoteJoined(ctx context.Context, openid, number string, rated bool) error {
	list, err := h.JoinedCases(ctx, openid)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(j JoinedCase) bool { return j.Number == number })
	if i < 0 {
		list = append(list, JoinedCase{Number: number})
		i = len(list) - 1
	}
	list[i].Rated = list[i].Rated || rated
	if len(list) > maxJoined {
		list = list[len(list)-maxJoined:]
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("note joined: %w", err)
	}
	return wrapErr("note joined", h.Records.PutRecord(ctx, nsJoined, openid, raw))
}

// Forget erases the resident's household file, their joined list, and the
// kept media with the given IDs (their voice notes) (注销).
func (h *Households) Forget(ctx context.Context, openid string, media []string) error {
	if hh, ok, err := h.Household(ctx, openid); err != nil {
		return fmt.Errorf("forget household: %w", err)
	} else if ok {
		if err := h.unindexPhone(ctx, hh); err != nil {
			return fmt.Errorf("forget household: %w", err)
		}
		if err := h.unindexName(ctx, hh); err != nil {
			return fmt.Errorf("forget household: %w", err)
		}
	}
	for _, k := range []struct{ ns, key string }{{nsHousehold, openid}, {nsJoined, openid}} {
		if err := h.Records.DeleteRecord(ctx, k.ns, k.key); err != nil {
			return fmt.Errorf("forget household: %w", err)
		}
	}
	ms := h.Media
	if ms == nil {
		ms = &MediaStore{Records: h.Records}
	}
	if err := ms.Delete(ctx, media...); err != nil {
		return fmt.Errorf("forget household: %w", err)
	}
	return nil
}

// wrapErr wraps err with what failed; nil stays nil.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
