// Coze OAuth sample: a service application (JWT bearer grant). Run: node main.mjs
//
// Get token -> this program signs a short-lived RS256 JWT with the app's private key (header kid = public_key_id;
// claims iss = client_id, aud = the API host, iat, exp, a random jti) and POSTs
// {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "duration_seconds": 900} to the token endpoint with
// the JWT as "Authorization: Bearer <jwt>". No user signs in and there is no refresh token: get a new one instead.
import { createPrivateKey, randomBytes, sign } from 'node:crypto';

import * as cs from './coze_sample.mjs';

const cfg = cs.loadConfig('jwt');
let privateKey;
try { // fail at start, not at the first click, when the key is unusable
  privateKey = createPrivateKey(cfg.private_key);
} catch (e) {
  cs.fail(`coze_oauth_config.json: private_key is not a usable PEM private key (-----BEGIN PRIVATE KEY-----): ${e.message}`);
}
if (privateKey.asymmetricKeyType !== 'rsa') cs.fail('coze_oauth_config.json: private_key is not an RSA key (RS256 needs RSA)');

let result = null; // the last token

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function signedJWT() {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: cfg.public_key_id };
  const claims = {
    iss: cfg.client_id,
    aud: new URL(cfg.coze_api_base).host, // host[:port] of the API base
    iat: now,
    exp: now + 600,
    jti: randomBytes(16).toString('hex'),
  };
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  // RS256 = RSASSA-PKCS1-v1_5 with SHA-256, the default padding for an RSA key.
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
}

async function getToken() {
  result = await cs.requestToken(cfg, {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    duration_seconds: 900,
  }, signedJWT());
  return cs.redirect('/result');
}

cs.serve({
  'GET /': async (req) => cs.html(cs.startPage(req.lang, cfg, cs.t(req.lang, 'get_token'),
    [['kid', `<code>${cs.esc(cfg.public_key_id)}</code>`]])),
  'POST /start': getToken,
  'GET /result': async (req) => (result ? cs.html(cs.jwtTokenPage(req.lang, result)) : cs.redirect('/')),
});
