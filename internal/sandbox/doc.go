// Package sandbox is an offline stand-in for a Coze OpenAPI upstream: it
// answers the chat, conversation, message and workflow routes in Coze's
// shapes (the envelope of WIRE.md §7, the SSE events the official SDKs parse),
// so a developer runs an SDK program end to end against `cozeauth serve --dev`
// with no Coze account and no model.
//
// The bot echoes: its answer to a chat is the text of the user's last message.
// A workflow's output is its input parameters. Non-stream chats are
// in_progress when created and complete on the next retrieve, so polling
// clients (createAndPoll) finish after one poll; time never matters.
//
// The sandbox decides nothing about credentials: the gateway authenticates
// and authorizes a request before handing it to the sandbox, with the
// caller's identity in X-Cozeauth-* headers. The sandbox only keeps a
// conversation to the account that created it (X-Cozeauth-Account-Id), as the
// Coze cloud keeps conversations to their account.
//
// State lives in memory and is bounded: beyond Options.MaxConversations the
// oldest conversation (with its chats and messages) is forgotten.
package sandbox
