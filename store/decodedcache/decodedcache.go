// Package decodedcache keeps values decoded from what a store holds. A list
// page decodes hundreds of cases, a figures page the marks of every open
// case, a resident's 附议 lookup the open cases nearby, and an office
// reloading its pages decodes the same ones again and again: decoding was
// most of the staff's CPU and the GC a fifth, which the residents' answers
// waited behind (docs/benchmarks.md). An entry is keyed by the case's
// number and holds the stored bytes it was decoded from; it is used only
// while the bytes read are the same, so a write (by this process, another
// instance, or a transaction still open) needs no invalidation: a changed
// value misses. Entries are never changed once kept, and every value
// handed out is a deep copy, since callers change what they get.
package decodedcache

import (
	"bytes"
	"reflect"
	"sync"
)

// Cache keeps values of type T, a struct, decoded from stored bytes,
// keyed by a case's number.
type Cache[T any] struct {
	max int
	// deep are the fields of T a copy must copy deeper than T itself,
	// found once: the reflection that finds them cost more than the copy.
	deep []int
	mu   sync.Mutex
	kept map[string]*decoded[T]
}

// New makes a cache of at most max values of type T, a struct.
func New[T any](max int) *Cache[T] {
	t := reflect.TypeFor[T]()
	var deep []int
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && !shallow(f.Type) {
			deep = append(deep, i)
		}
	}
	return &Cache[T]{max: max, deep: deep}
}

// Clone is a deep copy of v: what callers get may be changed freely.
func (k *Cache[T]) Clone(v *T) T {
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

// Get copies into out the value of number decoded from stored bytes raw,
// if kept.
func (k *Cache[T]) Get(number string, raw []byte, out *T) bool {
	k.mu.Lock()
	d := k.kept[number]
	k.mu.Unlock()
	if d == nil || !bytes.Equal(d.raw, raw) {
		return false
	}
	*out = k.Clone(&d.v)
	return true
}

// Put keeps v, number's value decoded from stored bytes raw.
func (k *Cache[T]) Put(number string, raw []byte, v *T) {
	d := &decoded[T]{raw: bytes.Clone(raw), v: k.Clone(v)}
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
