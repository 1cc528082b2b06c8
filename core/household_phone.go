package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Finding a bound resident by the phone they gave staff (代录): household
// files are kept one key each and never read whole, so the phone of each
// is indexed when it is saved — under a hash of the number, not the number
// — and the index entry goes with the file (注销) or with a changed phone.

// nsHouseholdPhone is the index: hash of a household's phone → its openid.
const nsHouseholdPhone = "household_phone"

// phoneKey is the index key of phone, or "" for what is not a phone.
func phoneKey(phone string) string {
	p, ok := NormalPhone(phone)
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte("household-phone\x00" + p))
	return hex.EncodeToString(sum[:16])
}

// indexPhone points the index at hh for its phone, and drops the entry of
// the phone it had before (old), if it was this household's.
func (h *Households) indexPhone(ctx context.Context, old *Household, hh Household) error {
	if old != nil && phoneKey(old.Phone) != phoneKey(hh.Phone) {
		if err := h.unindexPhone(ctx, *old); err != nil {
			return err
		}
	}
	if k := phoneKey(hh.Phone); k != "" {
		return wrapErr("index household phone", h.Records.PutRecord(ctx, nsHouseholdPhone, k, []byte(hh.OpenID)))
	}
	return nil
}

// unindexPhone drops hh's phone from the index when it points to hh.
func (h *Households) unindexPhone(ctx context.Context, hh Household) error {
	k := phoneKey(hh.Phone)
	if k == "" {
		return nil
	}
	raw, ok, err := h.Records.Record(ctx, nsHouseholdPhone, k)
	if err != nil || !ok || string(raw) != hh.OpenID {
		return wrapErr("unindex household phone", err)
	}
	return wrapErr("unindex household phone", h.Records.DeleteRecord(ctx, nsHouseholdPhone, k))
}

// ByPhone finds the household file registered with phone (as NormalPhone
// reads it), so that a case staff file for someone who phoned reaches them
// in WeChat when they are bound; ok is false when none is. When several
// share a phone (a family), the one that saved it last is found.
func (h *Households) ByPhone(ctx context.Context, phone string) (Household, bool, error) {
	k := phoneKey(phone)
	if k == "" {
		return Household{}, false, nil
	}
	raw, ok, err := h.Records.Record(ctx, nsHouseholdPhone, k)
	if err != nil || !ok {
		return Household{}, false, wrapErr("household by phone", err)
	}
	hh, ok, err := h.Household(ctx, string(raw))
	if err != nil {
		return Household{}, false, fmt.Errorf("household by phone: %w", err)
	}
	// The file may have changed its phone since: the index only points.
	if !ok || phoneKey(hh.Phone) != k {
		return Household{}, false, nil
	}
	return hh, true, nil
}
