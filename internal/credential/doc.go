// Package credential mints, stores and verifies the long-lived bearer
// credentials: personal access tokens (pat_…) and service access tokens
// (sat_…). Tokens carry 256 bits from crypto/rand; only their SHA-256 is
// stored (a fast hash is right for machine-generated secrets of that
// entropy; slow password hashes are for human passwords).
package credential
