package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// 代录: staff file a case for a resident who phoned or walked in. The case
// runs through the same ledger and routing as one filed in WeChat — the
// same category, grid, deadline and handler — and is marked with the
// channel it came by. When the resident is bound to the official account
// (their household file has the phone they gave), the case is theirs in
// WeChat: they are told it was filed, hear its progress and rate it. When
// not, it is filed under a key made from the phone (the same phone, the
// same key: one household's history), which no WeChat user holds, and no
// notice is sent to it.

// Intake is the channel a case came to the ledger by.
type Intake string

// The channels staff file by; "" is the resident themselves, in WeChat.
const (
	IntakePhone  Intake = "phone"   // 电话: the resident phoned
	IntakeWalkIn Intake = "walk_in" // 来访: the resident came in
)

// Label names the channel in the words staff read.
func (ch Intake) Label() string {
	switch ch {
	case IntakePhone:
		return "电话代录"
	case IntakeWalkIn:
		return "来访代录"
	case "":
		return "微信"
	}
	return string(ch)
}

// DataVia is the channel on the first event of a case staff filed.
const DataVia = "via"

// OfflineResidentPrefix starts the resident key of a case filed for
// someone with no WeChat bound: a key no WeChat user can hold.
const OfflineResidentPrefix = "offline:"

// IsOfflineResident reports whether resident is such a key: nobody to push
// notices to.
func IsOfflineResident(resident string) bool {
	return strings.HasPrefix(resident, OfflineResidentPrefix)
}

// OfflineResident is the resident key of cases filed for phone in the town
// with prefix: the same phone gives the same key, so a household's
// history holds together without the phone in the key.
func OfflineResident(prefix, phone string) string {
	sum := sha256.Sum256([]byte(prefix + "\x00" + phone))
	return OfflineResidentPrefix + hex.EncodeToString(sum[:10])
}

// Bounds of a filing's contact details.
const (
	MaxContactLen = 30  // runes of a name
	MaxAddressLen = 200 // runes of an address
)

// ProxyFiling is a case staff file for a resident.
type ProxyFiling struct {
	Draft
	Channel Intake
	// Contact is the name the resident gave, if any.
	Contact string
	// OpenID is the resident's WeChat when they are bound (found by the
	// phone they gave); "" files under OfflineResident's key.
	OpenID string
}

// NormalPhone is a phone number as kept: the digits (and a leading +) of
// what was typed, or false when that is not a phone number.
func NormalPhone(s string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", false
		}
	}
	n := strings.TrimPrefix(b.String(), "+")
	if len(n) < 5 || len(n) > 20 {
		return "", false
	}
	return b.String(), true
}

// FileFor files f for a resident on staff's word (StepFileFor): the town
// anywhere, a village in its grids, a grid leader in the grids they hold.
// ErrInvalid: an unknown category, grid or channel, empty or long text, a
// malformed phone, too long a name or address, too many photos.
func (l *Ledger) FileFor(ctx context.Context, staff string, f ProxyFiling) (Case, error) {
	town := l.Town.Town()
	cat, g := town.Category(f.Category), town.Grid(f.Grid)
	text := strings.TrimSpace(f.Text)
	contact, address := strings.TrimSpace(f.Contact), strings.TrimSpace(f.Address)
	phone := ""
	if strings.TrimSpace(f.Phone) != "" {
		var ok bool
		if phone, ok = NormalPhone(f.Phone); !ok {
			return Case{}, fmt.Errorf("file for: phone: %w", ErrInvalid)
		}
	}
	switch {
	case cat == nil || g == nil:
		return Case{}, fmt.Errorf("file for: category %q grid %q: %w", f.Category, f.Grid, ErrInvalid)
	case f.Channel != IntakePhone && f.Channel != IntakeWalkIn:
		return Case{}, fmt.Errorf("file for: channel %q: %w", f.Channel, ErrInvalid)
	case text == "" || utf8.RuneCountInString(text) > MaxTextLen:
		return Case{}, fmt.Errorf("file for: text length: %w", ErrInvalid)
	case utf8.RuneCountInString(contact) > MaxContactLen || utf8.RuneCountInString(address) > MaxAddressLen:
		return Case{}, fmt.Errorf("file for: contact or address length: %w", ErrInvalid)
	case len(f.Photos) > maxMediaPerCase || len(f.Key) > maxSubmitKeyLen:
		return Case{}, fmt.Errorf("file for: photos or key: %w", ErrInvalid)
	case f.Location != nil && (f.Location.Lat < -90 || f.Location.Lat > 90 || f.Location.Lng < -180 || f.Location.Lng > 180 ||
		utf8.RuneCountInString(f.Location.Label) > MaxAddressLen):
		return Case{}, fmt.Errorf("file for: location: %w", ErrInvalid)
	}
	now := l.now().In(town.Zone())
	resident := f.OpenID
	if resident == "" {
		key := phone
		if key == "" {
			// Nobody to find again: a key of this filing alone.
			key = "walk-in\x00" + staff + "\x00" + now.Format("20060102T150405.000000000")
		}
		resident = OfflineResident(town.CasePrefix, key)
	}
	c := Case{
		State:     StateSubmitted,
		Category:  cat.Code,
		Text:      text,
		Photos:    f.Photos,
		Address:   address,
		Location:  f.Location,
		Village:   g.Village,
		Grid:      g.ID,
		Resident:  resident,
		Phone:     phone,
		SubmitKey: f.Key,
		Channel:   f.Channel,
		Contact:   contact,
		Deadline:  town.Deadline(cat, now),
		TermStart: now,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := town.Permit(town.StaffMember(staff), StepFileFor, &c); err != nil {
		return Case{}, fmt.Errorf("file for by %q: %w", staff, err)
	}
	ev := Event{Kind: EventSubmitted, Actor: staff, At: now,
		Data: map[string]string{DataGrid: g.ID, DataVia: string(f.Channel)}}
	c, _, err := l.Store.CreateCase(ctx, c, ev)
	if err != nil {
		return Case{}, fmt.Errorf("file for: %w", err)
	}
	return c, nil
}
