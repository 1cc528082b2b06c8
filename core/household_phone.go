package core

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// ByPhone finds the household file registered with phone (as NormalPhone
// reads it), so that a case staff file for someone who phoned reaches them
// in WeChat when they are bound; ok is false when none is. When several
// share a phone (a family), the one registered first is taken. It reads
// the namespace, which stores keep: a desk's filing is rare next to chat.
func (h *Households) ByPhone(ctx context.Context, phone string) (Household, bool, error) {
	want, ok := NormalPhone(phone)
	if !ok {
		return Household{}, false, nil
	}
	all, err := h.Records.RecordsIn(ctx, nsHousehold)
	if err != nil {
		return Household{}, false, fmt.Errorf("household by phone: %w", err)
	}
	var found []Household
	for _, raw := range all {
		var hh Household
		if json.Unmarshal(raw, &hh) != nil || hh.Phone == "" {
			continue
		}
		if p, ok := NormalPhone(hh.Phone); ok && p == want {
			found = append(found, hh)
		}
	}
	if len(found) == 0 {
		return Household{}, false, nil
	}
	sort.Slice(found, func(i, j int) bool {
		if !found[i].RegisteredAt.Equal(found[j].RegisteredAt) {
			return found[i].RegisteredAt.Before(found[j].RegisteredAt)
		}
		return found[i].OpenID < found[j].OpenID
	})
	return found[0], true, nil
}
