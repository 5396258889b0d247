// A relying party built on `openid-client` (a certified OpenID Connect library), run by the
// integration tests against a live Tollbooth (docs/oidc.md): discovery, the authorization code
// flow with PKCE, `state` and `nonce`, ID-token validation, userinfo, refresh and the logout
// URL. The script is its own user agent for the sign-in form. It prints one JSON object of
// what it saw; any failure exits non-zero with the reason on stderr.
import * as oidc from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const issuer = new URL(env('ISSUER'));
const redirectUri = env('REDIRECT_URI');
const postLogoutRedirectUri = env('POST_LOGOUT_REDIRECT_URI');

// The test server is plain HTTP on loopback; openid-client refuses that unless told.
const config = await oidc.discovery(issuer, env('CLIENT_ID'), env('CLIENT_SECRET'), undefined, {
  execute: [oidc.allowInsecureRequests],
});

const codeVerifier = oidc.randomPKCECodeVerifier();
const nonce = oidc.randomNonce();
const state = oidc.randomState();
const authorizationUrl = oidc.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email',
  code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  nonce,
  state,
});

// The user agent: cookies kept by hand, redirects not followed.
const cookies = new Map();
async function visit(url, form) {
  const response = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  for (const set of response.headers.getSetCookie()) {
    const [pair] = set.split(';');
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

const signInPage = await visit(authorizationUrl);
const csrf = /name="csrf" value="([^"]+)"/.exec(signInPage.html)?.[1];
if (signInPage.status !== 200 || !csrf) throw new Error(`no sign-in form: ${signInPage.status}`);
const signedIn = await visit(authorizationUrl, { csrf, email: env('EMAIL'), password: env('PASSWORD') });
if (signedIn.status !== 302) throw new Error(`sign-in did not redirect: ${signedIn.status} ${signedIn.html}`);

// openid-client checks the callback's state and iss (RFC 9207), the code exchange, and the ID
// token: signature against the JWKS, iss, aud, exp, iat, nonce and at_hash.
const tokens = await oidc.authorizationCodeGrant(config, new URL(signedIn.location), {
  pkceCodeVerifier: codeVerifier,
  expectedNonce: nonce,
  expectedState: state,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
const logoutUrl = oidc.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogoutRedirectUri,
  state: 'signed-out-state',
});
const loggedOut = await visit(logoutUrl);
const afterLogout = await visit(authorizationUrl);

console.log(JSON.stringify({
  id_token_alg: JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg,
  sub: claims.sub,
  email: claims.email,
  name: claims.name,
  auth_time: claims.auth_time,
  userinfo,
  refreshed_sub: refreshed.claims()?.sub,
  refreshed_auth_time: refreshed.claims()?.auth_time,
  logout_status: loggedOut.status,
  logout_location: loggedOut.location,
  signed_in_after_logout: !afterLogout.html.includes('name="password"'),
}));
