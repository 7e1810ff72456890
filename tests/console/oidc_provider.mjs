// A real OIDC provider for the console's login test: panva's certified `oidc-provider` (npm,
// installed into the npm tools cache by `make install`), with a tiny configuration: one public
// client (the console; PKCE S256 required), its development login and consent pages (any login
// name is accepted), and JWT access tokens for the SLRT APIs' audience carrying SLRT's claims
// (roles, area, programs), or only `sub` for one login name. Usage: node oidc_provider.mjs <port>; configuration in OIDC_TEST_*.
const modules = process.env.OIDC_TEST_NODE_MODULES;
const { default: Provider } = await import(`${modules}/oidc-provider/lib/index.js`);

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const claims = JSON.parse(process.env.OIDC_TEST_CLAIMS);
const resource = process.env.OIDC_TEST_RESOURCE;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'slrt-console',
      token_endpoint_auth_method: 'none',
      redirect_uris: [process.env.OIDC_TEST_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [JSON.parse(process.env.OIDC_TEST_JWK)] },
  cookies: { keys: ['slrt-console-oidc-test'] },
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'openid',
        audience: process.env.OIDC_TEST_AUDIENCE,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // The login name OIDC_TEST_SUBJECT_ONLY gets an access token with only `sub` (the staff
  // directory's person: the console asks the registry who they are).
  extraTokenClaims: async (_ctx, token) =>
    token.kind === 'AccessToken' && token.accountId !== process.env.OIDC_TEST_SUBJECT_ONLY
      ? claims
      : undefined,
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
