package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Finding a bound resident by the phone they gave staff (代录): household
// files are kept one key each and never read whole, so the phone of each
// is indexed when it is saved — under a keyed hash of the number
// (Households.Blind, HMAC-SM3), never the number — and the index entry goes
// with the file (注销) or with a changed phone.

// nsHouseholdPhone is the index: hash of a household's phone → its openid.
const nsHouseholdPhone = "household_phone"

// blindPhoneDomain keeps the phone index's tokens apart from other uses
// of the Blinder.
const blindPhoneDomain = "household-phone"

// phoneKeys are the index keys of phone: the keyed one first, then the
// unkeyed SHA-256 of the number an index without a Blinder (or from before
// one) used; none for what is not a phone.
func (h *Households) phoneKeys(phone string) []string {
	p, ok := NormalPhone(phone)
	if !ok {
		return nil
	}
	sum := sha256.Sum256([]byte("household-phone\x00" + p))
	legacy := hex.EncodeToString(sum[:16])
	if h.Blind == nil {
		return []string{legacy}
	}
	return []string{h.Blind.Blind(blindPhoneDomain, p), legacy}
}

// phoneKey is the key an entry for phone is written under now, or "".
func (h *Households) phoneKey(phone string) string {
	if keys := h.phoneKeys(phone); len(keys) > 0 {
		return keys[0]
	}
	return ""
}

// indexPhone points the index at hh for its phone, and drops the entry of
// the phone it had before (old), if it was this household's.
func (h *Households) indexPhone(ctx context.Context, old *Household, hh Household) error {
	if old != nil && (h.phoneKey(old.Phone) != h.phoneKey(hh.Phone) || h.Blind != nil) {
		if err := h.unindexPhone(ctx, *old); err != nil {
			return err
		}
	}
	if k := h.phoneKey(hh.Phone); k != "" {
		return wrapErr("index household phone", h.Records.PutRecord(ctx, nsHouseholdPhone, k, []byte(hh.OpenID)))
	}
	return nil
}

// unindexPhone drops hh's phone from the index (under every key it may
// have) where it points to hh.
func (h *Households) unindexPhone(ctx context.Context, hh Household) error {
	for _, k := range h.phoneKeys(hh.Phone) {
		raw, ok, err := h.Records.Record(ctx, nsHouseholdPhone, k)
		if err != nil {
			return wrapErr("unindex household phone", err)
		}
		if !ok || string(raw) != hh.OpenID {
			continue
		}
		if err := h.Records.DeleteRecord(ctx, nsHouseholdPhone, k); err != nil {
			return wrapErr("unindex household phone", err)
		}
	}
	return nil
}

// ByPhone finds the household file registered with phone (as NormalPhone
// reads it), so that a case staff file for someone who phoned reaches them
// in WeChat when they are bound; ok is false when none is. When several
// share a phone (a family), the one that saved it last is found. An entry
// indexed before the Blinder was configured is found under its old key.
func (h *Households) ByPhone(ctx context.Context, phone string) (Household, bool, error) {
	for _, k := range h.phoneKeys(phone) {
		raw, ok, err := h.Records.Record(ctx, nsHouseholdPhone, k)
		if err != nil {
			return Household{}, false, wrapErr("household by phone", err)
		}
		if !ok {
			continue
		}
		hh, ok, err := h.Household(ctx, string(raw))
		if err != nil {
			return Household{}, false, fmt.Errorf("household by phone: %w", err)
		}
		// The file may have changed its phone since: the index only points.
		if ok && hh.Phone != "" && h.phoneKey(hh.Phone) == h.phoneKey(phone) {
			return hh, true, nil
		}
	}
	return Household{}, false, nil
}
