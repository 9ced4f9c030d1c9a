// A real OpenID provider for the SSO tests: oidc-provider (OpenID Certified),
// listening on 127.0.0.1:$PORT with issuer http://127.0.0.1:$PORT.
//
// One confidential client, `kaito` / `kaito-test-secret`, of the native kind, so a
// loopback redirect on any port is allowed (RFC 8252 §7.3). Its sign-in page is the
// provider's own development page: any login (an email) with any password, then a
// "Continue" page (the provider always asks a native client's user to confirm).
//
// Test-only controls, never part of a real provider:
//   POST /test/accounts      {"email", "groups": [...], "email_verified"}  claims for a login
//   POST /test/next-id-token {"tamper": "wrong_audience"|"expired"|"bad_signature"}
//        the next token response carries an ID token changed that way, signed with
//        the provider's own key (or, for bad_signature, another key under its key id)
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';

const port = Number(process.env.PORT);
if (!port) {
  console.error('provider.mjs: set PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const keyId = 'kaito-test-key';

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const { privateKey: strangerKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: keyId, alg: 'RS256', use: 'sig' };

const accounts = new Map();
let nextTamper = null;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'kaito',
      client_secret: 'kaito-test-secret',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['kaito-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  // Email and groups in the ID token itself, as Okta, Entra ID and Google put them.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const account = accounts.get(id) ?? {};
    return {
      accountId: id,
      async claims() {
        return {
          sub: `sub-${id}`,
          email: id,
          email_verified: account.email_verified ?? true,
          groups: account.groups ?? [],
        };
      },
    };
  },
});
provider.proxy = false;

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

async function tamper(idToken, how) {
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = privateKey;
  if (how === 'wrong_audience') claims.aud = 'someone-else';
  else if (how === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  else if (how === 'bad_signature') key = strangerKey;
  else throw new Error(`unknown tamper ${how}`);
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: keyId }).sign(key);
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/test/accounts') {
    const body = await readJson(ctx);
    accounts.set(body.email, body);
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/test/next-id-token') {
    nextTamper = (await readJson(ctx)).tamper;
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && nextTamper && ctx.body?.id_token) {
    const how = nextTamper;
    nextTamper = null;
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, how) };
  }
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening at ${issuer}`);
});
