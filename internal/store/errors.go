package store

import "errors"

// Sentinel errors. Backends wrap them with context; callers compare with errors.Is.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a record with the same key (ID, username, token hash…) exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the record violates a rule of the store (unknown referenced row, bad value).
	ErrInvalid = errors.New("invalid record")
)
