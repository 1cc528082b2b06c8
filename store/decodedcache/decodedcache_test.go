package decodedcache

import (
	"reflect"
	"testing"
	"time"

	"gridbot/core"
)

// populate sets every exported field reachable from v: pointers made,
// slices of two, maps of one entry, strings and numbers non-zero.
func populate(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		populate(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			populate(v.Index(i), depth+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		populate(k, depth+1)
		populate(e, depth+1)
		v.SetMapIndex(k, e)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				populate(v.Field(i), depth+1)
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(1)
	case reflect.Float64:
		v.SetFloat(1)
	case reflect.Bool:
		v.SetBool(true)
	}
}

// mutate changes every value reachable from v through pointers, slices
// and maps (not v's own fields, which a copy owns anyway).
func mutate(v reflect.Value, shared bool, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			mutate(v.Elem(), true, depth+1)
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutate(v.Index(i), true, depth+1)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			mutate(e, true, depth+1)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				mutate(v.Field(i), shared, depth+1)
			}
		}
	case reflect.String:
		if shared {
			v.SetString("changed")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if shared {
			v.SetInt(v.Int() + 1)
		}
	case reflect.Bool:
		if shared {
			v.SetBool(!v.Bool())
		}
	}
}

// A case or figure marks handed out of a cache share nothing with those
// kept: every field they have or gain, however deep, is copied.
func TestCloneSharesNothing(t *testing.T) {
	t.Run("case", func(t *testing.T) { testCloneSharesNothing[core.Case](t) })
	t.Run("marks", func(t *testing.T) { testCloneSharesNothing[core.FigureMarks](t) })
}

func testCloneSharesNothing[T any](t *testing.T) {
	var kept, want T
	populate(reflect.ValueOf(&kept).Elem(), 0)
	populate(reflect.ValueOf(&want).Elem(), 0)
	cache := New[T](1)
	got := cache.Clone(&kept)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("clone differs:\n got %+v\nwant %+v", got, want)
	}
	mutate(reflect.ValueOf(&got).Elem(), false, 0)
	if reflect.DeepEqual(got, want) {
		t.Fatal("mutate changed nothing: the test cannot fail")
	}
	if !reflect.DeepEqual(kept, want) {
		t.Fatalf("changing the clone changed the kept value:\n got %+v\nwant %+v", kept, want)
	}
}
