package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Finding residents by the name in their household file (一户一档): staff
// search "张秀英" and find the cases of the resident registered so, filed in
// WeChat without a name on the case. Household files are kept one key each
// and never read whole, so each file's name is indexed when it is saved —
// under a hash of the name, as the phone is — and the entry goes with the
// file (注销) or with a changed name. This is the whole name, as people say
// it at the desk; words inside the cases are another index's work.

// nsHouseholdName is the index: hash of a name → the openids registered
// with it, as JSON (namesakes share an entry).
const nsHouseholdName = "household_name"

// maxNamesakes bounds the residents one name's entry holds; the earliest
// go first (a name that common finds too many to be of use anyway).
const maxNamesakes = 100

// nameKey is the index key of a name, or "" for no name. Spaces are
// dropped and letters upper-cased, as the search reads them.
func nameKey(name string) string {
	n := strings.ToUpper(strings.Join(strings.Fields(name), ""))
	if n == "" || len([]rune(n)) > MaxContactLen {
		return ""
	}
	sum := sha256.Sum256([]byte("household-name\x00" + n))
	return hex.EncodeToString(sum[:16])
}

func (h *Households) namesakes(ctx context.Context, key string) ([]string, error) {
	raw, ok, err := h.Records.Record(ctx, nsHouseholdName, key)
	if err != nil || !ok {
		return nil, wrapErr("household name", err)
	}
	var ids []string
	if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, nil // unreadable: start the entry again
	}
	return ids, nil
}

func (h *Households) putNamesakes(ctx context.Context, key string, ids []string) error {
	if len(ids) == 0 {
		return wrapErr("household name", h.Records.DeleteRecord(ctx, nsHouseholdName, key))
	}
	raw, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("household name: %w", err)
	}
	return wrapErr("household name", h.Records.PutRecord(ctx, nsHouseholdName, key, raw))
}

// indexName files hh under its name, and takes it out of the entry of the
// name it had before (old).
func (h *Households) indexName(ctx context.Context, old *Household, hh Household) error {
	if old != nil && nameKey(old.Name) != nameKey(hh.Name) {
		if err := h.unindexName(ctx, *old); err != nil {
			return err
		}
	}
	k := nameKey(hh.Name)
	if k == "" {
		return nil
	}
	ids, err := h.namesakes(ctx, k)
	if err != nil || slices.Contains(ids, hh.OpenID) {
		return err
	}
	ids = append(ids, hh.OpenID)
	if len(ids) > maxNamesakes {
		ids = ids[len(ids)-maxNamesakes:]
	}
	return h.putNamesakes(ctx, k, ids)
}

// unindexName takes hh out of its name's entry.
func (h *Households) unindexName(ctx context.Context, hh Household) error {
	k := nameKey(hh.Name)
	if k == "" {
		return nil
	}
	ids, err := h.namesakes(ctx, k)
	if err != nil || !slices.Contains(ids, hh.OpenID) {
		return err
	}
	return h.putNamesakes(ctx, k, slices.DeleteFunc(ids, func(id string) bool { return id == hh.OpenID }))
}

// ByName lists the openids of the residents whose household file bears
// name, whole (spaces and letter case aside); none for a name no one
// registered. The files are read again, so a file that changed its name
// since is not found by the old one.
func (h *Households) ByName(ctx context.Context, name string) ([]string, error) {
	k := nameKey(name)
	if k == "" {
		return nil, nil
	}
	ids, err := h.namesakes(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("households by name: %w", err)
	}
	out := ids[:0:0]
	for _, id := range ids {
		hh, ok, err := h.Household(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("households by name: %w", err)
		}
		if ok && nameKey(hh.Name) == k {
			out = append(out, id)
		}
	}
	return out, nil
}
