package embedded

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sync"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// A case is stored as core.EncodeCase writes it (its personal fields
// sealed when the store seals), compressed as the Valkey store compresses
// its cases (store/valuecodec: the dictionary trained on cases and their
// marks, literals without Huffman tables so that a list page expands its
// hundreds of cases quickly), with no marks after it: they have a bucket
// of their own here, which the figures read without the cases. Any value
// valuecodec reads still reads: plain JSON as written before, or a case
// packed alone with the first dictionary.

// encodeCase is the stored value of c.
func (s *Store) encodeCase(c *core.Case) ([]byte, error) {
	v, err := core.EncodeCase(s.sealer, c)
	if err != nil {
		return nil, err
	}
	return valuecodec.PackCaseWithMarks(v, nil)
}

// plainCase returns the JSON of a stored case, its personal fields still
// sealed: for what reads only the fields the indexes and figures need.
func plainCase(v []byte) ([]byte, error) {
	plain, _, err := valuecodec.SplitCase(v)
	return plain, err
}

// unmarshalCase reads a stored case's JSON into c, its personal fields
// still sealed.
func unmarshalCase(v []byte, c *core.Case) error {
	plain, err := plainCase(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, c)
}

// decodeStored reads a stored case with its personal fields opened.
func (s *Store) decodeStored(v []byte, c *core.Case) error {
	plain, err := plainCase(v)
	if err != nil {
		return err
	}
	*c = core.Case{}
	return core.DecodeCase(s.sealer, plain, c)
}

// decodeCase reads stored case number with its personal fields opened,
// through the cache of decoded cases.
func (s *Store) decodeCase(number string, v []byte, c *core.Case) error {
	if s.decoded.get(number, v, c) {
		return nil
	}
	if err := s.decodeStored(v, c); err != nil {
		return err
	}
	s.decoded.put(number, v, c)
	return nil
}

// maxDecodedCases bounds the cases the cache keeps: some pages of 500 of
// an office at work, a few megabytes.
const maxDecodedCases = 4096

// A decodedCache keeps values decoded from what the file stores. A list
// page decodes hundreds of cases and a figures page the marks of every
// open case and callback waiting, and an office reloading its pages
// decodes the same ones again and again: decoding was most of the staff's
// CPU and the GC a fifth, which the residents' answers waited behind
// (docs/benchmarks.md). An entry is keyed by the case's number and holds
// the stored bytes it was decoded from; it is used only while the bytes
// read are the same, so a write (in this process or a transaction still
// open) needs no invalidation: a changed value misses. Entries are never
// changed once kept, and every value handed out is a deep copy, since
// callers change what they get.
type decodedCache[T any] struct {
	max int
	// deep are the fields of T a copy must copy deeper than T itself,
	// found once: the reflection that finds them cost more than the copy.
	deep []int
	mu   sync.Mutex
	kept map[string]*decoded[T]
}

// newDecodedCache makes a cache of at most max values of type T, a struct.
func newDecodedCache[T any](max int) decodedCache[T] {
	t := reflect.TypeFor[T]()
	var deep []int
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && !shallow(f.Type) {
			deep = append(deep, i)
		}
	}
	return decodedCache[T]{max: max, deep: deep}
}

// clone is a deep copy of v: what callers get may be changed freely.
func (k *decodedCache[T]) clone(v *T) T {
	out := *v
	rv := reflect.ValueOf(&out).Elem()
	for _, i := range k.deep {
		f := rv.Field(i)
		f.Set(deepCopy(f))
	}
	return out
}

type decoded[T any] struct {
	raw []byte
	v   T
}

// get copies into out the value of number decoded from stored bytes raw,
// if kept.
func (k *decodedCache[T]) get(number string, raw []byte, out *T) bool {
	k.mu.Lock()
	d := k.kept[number]
	k.mu.Unlock()
	if d == nil || !bytes.Equal(d.raw, raw) {
		return false
	}
	*out = k.clone(&d.v)
	return true
}

// put keeps v, number's value decoded from stored bytes raw.
func (k *decodedCache[T]) put(number string, raw []byte, v *T) {
	d := &decoded[T]{raw: bytes.Clone(raw), v: k.clone(v)}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kept == nil || len(k.kept) >= k.max {
		// Start again rather than track use: a page's values come back
		// within a few requests.
		k.kept = make(map[string]*decoded[T], k.max)
	}
	k.kept[number] = d
}

// deepCopy copies v and everything it points to through exported fields,
// slices, maps, pointers and interfaces. Unexported fields are copied as
// they are (time.Time's zone is shared, and immutable).
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(deepCopy(v.Elem()))
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		if shallow(v.Type().Elem()) {
			reflect.Copy(n, v)
			return n
		}
		for i := range v.Len() {
			n.Index(i).Set(deepCopy(v.Index(i)))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			n.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(deepCopy(v.Elem()))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && !shallow(f.Type) {
				n.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return n
	}
	return v
}

// shallow reports whether a value of type t holds nothing a copy shares.
func shallow(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return false
	case reflect.Struct:
		// time.Time has no exported fields: shallow, its zone shared.
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && !shallow(f.Type) {
				return false
			}
		}
	}
	return true
}
