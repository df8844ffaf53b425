// Package web serves the browser pages: sign-in, the consent page of the
// authorization request (WIRE.md §3.1), the device verification page
// (WIRE.md §6, RFC 8628 §3.3) and the console under /console, where people
// manage their personal access tokens. Pages are server-rendered from
// embedded templates in English and Simplified Chinese, every form is
// CSRF-protected, and every page carries headers that forbid framing.
//
// Sessions live in the database (store.Sessions) so that every replica sees
// them; the browser holds only a random session ID, the store its SHA-256.
package web
