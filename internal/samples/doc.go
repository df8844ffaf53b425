// Package samples builds the downloadable sample bundles of OAuth apps (issue
// 9, seed "通过示例文件体验 OAuth 授权流程"): a zip holding the app's
// coze_oauth_config.json (WIRE.md §9), a README in English and Chinese, and a
// small standard-library program per language and client type, embedded from
// programs/<lang>/{common,<type>}/. Make mints what the config needs (a web
// app's client secret, a JWT app's key pair), because cozeauth keeps only
// hashes and public keys.
package samples
