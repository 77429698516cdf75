package httpapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sync"
	"time"
)

// shanghai is the business time zone: service dates default to today
// there, and every time in an answer is given there.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// inBusinessTime returns v with every time.Time encoding/json would write
// moved to Asia/Shanghai, so that every answer gives its times in one form,
// RFC 3339 at +08:00, wherever they came from: stores scan times as UTC and
// clocks run in the host's zone. The instant is unchanged, only the offset
// it is written with; a zero time stays as it is (it is "no time", and
// Shanghai's local mean time of year 1 is no offset an answer should show).
//
// v itself is never modified: an answer may share values with a cache, so
// every struct, pointer, slice or map on the way to a time is copied and
// everything else is shared. A type with its own MarshalJSON or MarshalText
// writes itself and is left alone.
func inBusinessTime(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !holdsTime(rv.Type()) {
		return v
	}
	return inZone(rv, shanghai).Interface()
}

// inZone returns a copy of v with its times in loc, v itself where it
// holds none.
func inZone(v reflect.Value, loc *time.Location) reflect.Value {
	t := v.Type()
	plan := zonePlanOf(t)
	if !plan.holdsTime {
		return v
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			tm := v.Interface().(time.Time)
			if tm.IsZero() {
				return v
			}
			return reflect.ValueOf(tm.In(loc))
		}
		out := reflect.New(t).Elem()
		out.Set(v)
		for _, i := range plan.fields {
			out.Field(i).Set(inZone(v.Field(i), loc))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(t.Elem())
		out.Elem().Set(inZone(v.Elem(), loc))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(t).Elem()
		out.Set(inZone(v.Elem(), loc))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(inZone(v.Index(i), loc))
		}
		return out
	case reflect.Array:
		out := reflect.New(t).Elem()
		for i := range v.Len() {
			out.Index(i).Set(inZone(v.Index(i), loc))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), inZone(it.Value(), loc))
		}
		return out
	}
	return v
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	zonePlans         sync.Map // reflect.Type → *zonePlan
)

// zonePlan is what inZone needs to know of a type, worked out once.
type zonePlan struct {
	// holdsTime: a value of the type may hold a time.Time that
	// encoding/json writes: the type is time.Time, or reaches one through
	// the encoded fields of structs, pointers, slices, arrays, map values
	// or interfaces (whose value is only known at run time), and does not
	// write itself.
	holdsTime bool
	// fields are a struct's encoded fields that may hold a time.
	fields []int
}

func holdsTime(t reflect.Type) bool { return zonePlanOf(t).holdsTime }

func zonePlanOf(t reflect.Type) *zonePlan {
	if p, ok := zonePlans.Load(t); ok {
		return p.(*zonePlan)
	}
	p := &zonePlan{holdsTime: reachesTime(t, map[reflect.Type]bool{})}
	if p.holdsTime && t.Kind() == reflect.Struct && t != timeType {
		// A struct cannot hold itself by value, so this ends.
		for i := range t.NumField() {
			if f := t.Field(i); encodedField(f) && holdsTime(f.Type) {
				p.fields = append(p.fields, i)
			}
		}
	}
	zonePlans.Store(t, p)
	return p
}

// reachesTime searches the types reachable from t for a time.Time,
// visiting each once (a recursive type is searched through its other
// fields); only its answer for the first t is complete.
func reachesTime(t reflect.Type, visited map[reflect.Type]bool) bool {
	if t == timeType {
		return true
	}
	if visited[t] {
		return false
	}
	visited[t] = true
	if writesItself(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return reachesTime(t.Elem(), visited)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); encodedField(f) && reachesTime(f.Type, visited) {
				return true
			}
		}
	}
	return false
}

// writesItself reports whether encoding/json leaves t's form to t. A
// pointer's methods are its element's, so it is the element that decides.
func writesItself(t reflect.Type) bool {
	if t.Kind() == reflect.Interface || t.Kind() == reflect.Pointer {
		return false
	}
	p := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		p.Implements(jsonMarshalerType) || p.Implements(textMarshalerType)
}

// encodedField reports whether encoding/json writes f and inZone can set
// it: an exported field not tagged "-". (The fields of an unexported
// embedded struct are written too but cannot be set; answers embed
// exported types.)
func encodedField(f reflect.StructField) bool {
	return f.IsExported() && f.Tag.Get("json") != "-"
}
