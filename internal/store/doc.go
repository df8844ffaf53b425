// Package store defines cozeauth's domain records, the small per-area storage
// interfaces the feature packages depend on, and the sentinel errors every
// backend returns. It imports nothing else of ours, so every other package can
// depend on it.
package store
