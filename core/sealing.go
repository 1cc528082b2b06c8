package core

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Personal data at rest (等保 2.0 数据保密性, 密评 GB/T 39786): the stores
// seal what identifies or quotes a resident — their phone, address and
// words, the place they named, their household file, their photos and voice
// notes — with a Sealer before it reaches the disk or the Valkey server,
// and look up a phone by a Blinder's keyed hash, never by the number. The
// implementation (SM4-GCM and HMAC-SM3) is package sealing; a nil Sealer
// or Blinder means plain, as before (the tests', the demo's choice).
//
// Sealing is per field, inside the JSON a store writes: the case's state,
// grid, category, numbers and times stay readable, so the indexes, the
// figures and the Valkey write scripts work on them unchanged.

// Sealer seals and opens personal data. A sealed value starts with
// SealMark and names the key that sealed it: keys rotate (new values are
// sealed with the newest key, older ones opened with the key they name).
type Sealer interface {
	// Seal returns plain sealed with the current key.
	Seal(plain []byte) ([]byte, error)
	// Open returns the plain bytes of a value Seal made. A value without
	// SealMark (written before sealing was turned on) is returned as it
	// is; one whose key is unknown, or that was altered, is an error.
	Open(sealed []byte) ([]byte, error)
	// KeyID names the key Seal uses now.
	KeyID() string
}

// Blinder turns a value into a keyed hash (hex) to look it up by: the same
// value in the same domain gives the same token, and without the key the
// token says nothing of the value (a phone number cannot be found by
// hashing every number). Domains keep one use's tokens apart from
// another's (the phone index, the text search's bigrams).
type Blinder interface {
	Blind(domain, value string) string
}

// SealMark starts every sealed value; no JSON text, image or voice file
// starts with a zero byte.
const SealMark = "\x00SM4"

// MaxSealOverhead bounds what sealing adds to a value: the mark, the key
// ID (at most 32 bytes), the nonce and the tag. An object store that bounds
// its objects leaves this much room.
const MaxSealOverhead = 80

// IsSealed tells a value Sealer.Seal made.
func IsSealed(b []byte) bool { return bytes.HasPrefix(b, []byte(SealMark)) }

// ErrNoKey is opening a sealed value without a Sealer: the data keys are
// missing from the configuration.
var ErrNoKey = errors.New("sealed data, and no data key configured (crypto.key_file or crypto.keys)")

// OpenBytes opens b with s when it is sealed; plain bytes come back as
// they are.
func OpenBytes(s Sealer, b []byte) ([]byte, error) {
	if !IsSealed(b) {
		return b, nil
	}
	if s == nil {
		return nil, ErrNoKey
	}
	return s.Open(b)
}

// SealedKeyOf returns the key ID a sealed value names, or "" for plain.
func SealedKeyOf(b []byte) string {
	if !IsSealed(b) || len(b) < len(SealMark)+1 {
		return ""
	}
	n := int(b[len(SealMark)])
	if len(b) < len(SealMark)+1+n {
		return ""
	}
	return string(b[len(SealMark)+1 : len(SealMark)+1+n])
}

// casePersonal are the fields of a case the stores seal.
type casePersonal struct {
	Text    string `json:"t,omitempty"`
	Phone   string `json:"p,omitempty"`
	Address string `json:"a,omitempty"`
	Contact string `json:"c,omitempty"`
	Label   string `json:"l,omitempty"`
	Result  string `json:"r,omitempty"`
	Parties string `json:"m,omitempty"`
}

// caseRecord is a case as a store writes it: the personal fields emptied,
// and Sealed holding them (base64 of a sealed value).
type caseRecord struct {
	*Case
	Sealed string `json:"sealed,omitempty"`
}

// EncodeCase is the JSON a store keeps of c, its personal fields sealed
// with s (plain JSON when s is nil).
func EncodeCase(s Sealer, c *Case) ([]byte, error) {
	if s == nil {
		return json.Marshal(c)
	}
	out := *c
	p := casePersonal{Text: c.Text, Phone: c.Phone, Address: c.Address, Contact: c.Contact, Result: c.Result}
	out.Text, out.Phone, out.Address, out.Contact, out.Result = "", "", "", "", ""
	if c.Location != nil && c.Location.Label != "" {
		loc := *c.Location
		p.Label, loc.Label = loc.Label, ""
		out.Location = &loc
	}
	if c.Mediation != nil && c.Mediation.Parties != "" {
		m := *c.Mediation
		p.Parties, m.Parties = m.Parties, ""
		out.Mediation = &m
	}
	rec := caseRecord{Case: &out}
	if p != (casePersonal{}) {
		sealed, err := sealJSON(s, p)
		if err != nil {
			return nil, fmt.Errorf("seal case %s: %w", c.Number, err)
		}
		rec.Sealed = sealed
	}
	return json.Marshal(rec)
}

// DecodeCase reads what EncodeCase wrote (or a case written plain) into c,
// opening its sealed fields with s.
func DecodeCase(s Sealer, raw []byte, c *Case) error {
	rec := caseRecord{Case: c}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return err
	}
	if rec.Sealed == "" {
		return nil
	}
	var p casePersonal
	if err := openJSON(s, rec.Sealed, &p); err != nil {
		return fmt.Errorf("open case %s: %w", c.Number, err)
	}
	c.Text, c.Phone, c.Address, c.Contact, c.Result = p.Text, p.Phone, p.Address, p.Contact, p.Result
	if p.Label != "" && c.Location != nil {
		c.Location.Label = p.Label
	}
	if p.Parties != "" && c.Mediation != nil {
		c.Mediation.Parties = p.Parties
	}
	return nil
}

// sealedEventData are the keys of Event.Data a store seals with the
// event's Text: words people wrote, the place a reply named, a WeChat link.
// The others are codes, IDs, numbers and times the figures read.
var sealedEventData = []string{DataLabel, DataPicURL, DataMediators}

// dataSealed is the key of Event.Data that holds the sealed part.
const dataSealed = "sealed"

// SealEvent returns ev with its Text and personal Data sealed with s into
// one Data entry, as a store keeps it; ev itself is not changed. With a
// nil s it is ev.
func SealEvent(s Sealer, ev Event) (Event, error) {
	if s == nil {
		return ev, nil
	}
	p := map[string]string{}
	if ev.Text != "" {
		p[""] = ev.Text
	}
	for _, k := range sealedEventData {
		if v, ok := ev.Data[k]; ok {
			p[k] = v
		}
	}
	if len(p) == 0 {
		return ev, nil
	}
	sealed, err := sealJSON(s, p)
	if err != nil {
		return ev, fmt.Errorf("seal event of %s: %w", ev.Case, err)
	}
	data := make(map[string]string, len(ev.Data)+1)
	for k, v := range ev.Data {
		if _, personal := p[k]; !personal {
			data[k] = v
		}
	}
	data[dataSealed] = sealed
	ev.Text, ev.Data = "", data
	return ev, nil
}

// OpenEvent opens what SealEvent sealed in ev, in place.
func OpenEvent(s Sealer, ev *Event) error {
	sealed, ok := ev.Data[dataSealed]
	if !ok {
		return nil
	}
	var p map[string]string
	if err := openJSON(s, sealed, &p); err != nil {
		return fmt.Errorf("open event %d: %w", ev.Seq, err)
	}
	delete(ev.Data, dataSealed)
	for k, v := range p {
		if k == "" {
			ev.Text = v
		} else {
			ev.Data[k] = v
		}
	}
	if len(ev.Data) == 0 {
		ev.Data = nil
	}
	return nil
}

// SealedEventKey tells the key ID an event was sealed with, or "".
func SealedEventKey(ev Event) string { return SealedTextKey(ev.Data[dataSealed]) }

// SealedTextKey tells the key ID of a sealed part as the JSON of a case or
// an event holds it (base64), or "".
func SealedTextKey(text string) string {
	raw, err := base64.RawStdEncoding.DecodeString(text)
	if err != nil {
		return ""
	}
	return SealedKeyOf(raw)
}

// EventHasPersonalData tells an event with something SealEvent would seal.
func EventHasPersonalData(ev Event) bool {
	if ev.Text != "" {
		return true
	}
	for _, k := range sealedEventData {
		if _, ok := ev.Data[k]; ok {
			return true
		}
	}
	return false
}

func sealJSON(s Sealer, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed, err := s.Seal(plain)
	if err != nil {
		return "", err
	}
	return base64.RawStdEncoding.EncodeToString(sealed), nil
}

func openJSON(s Sealer, text string, v any) error {
	raw, err := base64.RawStdEncoding.DecodeString(text)
	if err != nil {
		return fmt.Errorf("sealed part: %w", err)
	}
	if !IsSealed(raw) {
		return errors.New("sealed part: not sealed")
	}
	plain, err := OpenBytes(s, raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

// nsSecondFactor is the console's namespace of staff members' TOTP
// secrets and recovery code hashes (console/login_factor.go).
const nsSecondFactor = "second-factor"

// SealedNamespace tells the record namespaces whose values a store seals
// whole: household files (openid → name, phone, address), the phone index
// (→ openid), kept media, the staff's second-factor secrets, and the
// imported links of cadres to households (name, phone, address).
func SealedNamespace(ns string) bool { return slices.Contains(SealedNamespaces(), ns) }

// SealedNamespaces lists the namespaces SealedNamespace tells.
func SealedNamespaces() []string {
	return []string{nsHousehold, nsHouseholdPhone, nsMedia, nsSecondFactor, nsLinked}
}

// SealedObjects is an ObjectStore whose objects are sealed: the residents'
// photos and voice notes in the data folder or the S3 bucket. Objects kept
// plain before sealing was turned on still read.
type SealedObjects struct {
	Objects ObjectStore
	Sealer  Sealer
}

// PutObject implements ObjectStore.
func (o SealedObjects) PutObject(ctx context.Context, key string, data []byte) error {
	sealed, err := o.Sealer.Seal(data)
	if err != nil {
		return fmt.Errorf("seal object %s: %w", key, err)
	}
	return o.Objects.PutObject(ctx, key, sealed)
}

// Object implements ObjectStore.
func (o SealedObjects) Object(ctx context.Context, key string) ([]byte, bool, error) {
	data, ok, err := o.Objects.Object(ctx, key)
	if err != nil || !ok {
		return data, ok, err
	}
	plain, err := OpenBytes(o.Sealer, data)
	if err != nil {
		return nil, false, fmt.Errorf("open object %s: %w", key, err)
	}
	return plain, true, nil
}

// DeleteObject implements ObjectStore.
func (o SealedObjects) DeleteObject(ctx context.Context, key string) error {
	return o.Objects.DeleteObject(ctx, key)
}

// Reseal seals the object under key again with the current key when an
// older key sealed it, or it was kept plain; it reports whether it did.
func (o SealedObjects) Reseal(ctx context.Context, key string) (bool, error) {
	data, ok, err := o.Objects.Object(ctx, key)
	if err != nil || !ok || SealedKeyOf(data) == o.Sealer.KeyID() {
		return false, err
	}
	plain, err := OpenBytes(o.Sealer, data)
	if err != nil {
		return false, fmt.Errorf("reseal object %s: %w", key, err)
	}
	return true, o.PutObject(ctx, key, plain)
}
