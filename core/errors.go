package core

import "errors"

// Errors the domain and its stores return. Callers test with errors.Is; the
// wrapped text is for logs, never for residents or staff.
var (
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflicting update")
	ErrInvalid    = errors.New("invalid")
	ErrNoChange   = errors.New("nothing to change")
	ErrWrongState = errors.New("not allowed in this state")
	ErrForbidden  = errors.New("not this staff member's case")
	ErrTooMany    = errors.New("too many requests")
)
