// A workload-identity peer (SEP-1933) for Latch's tests, on 127.0.0.1 only: an OAuth
// authorization server that takes only the RFC 7523 jwt-bearer grant, whose assertion must be a
// "platform" token it can verify (signature with its platform key, issuer, audience = this
// authorization server, expiry, no clock tolerance), in front of a protected MCP server
// (Streamable HTTP, stateless, from @modelcontextprotocol/sdk) that takes only the access tokens
// it issued. The platform's side is played here too: `POST /__test/mint` signs a platform token
// for the test to hand to Latch (a file, an environment variable, a command's output).
//
// Prints one JSON line {"url": "http://127.0.0.1:PORT"} when ready; runs until its stdin (a
// pipe) ends or a signal. Env: WORKLOAD_ACCESS_TTL (seconds the access tokens last, default 3600).
//
// Endpoints: /.well-known/oauth-protected-resource[/mcp], /.well-known/oauth-authorization-server,
// POST /token, /mcp (tools: whoami, add), and the admin ones: POST /__test/mint {sub, aud?,
// expiresIn?} -> {token}; POST /__test/revoke (every access token stops working);
// GET /__test/stats -> {tokenRequests: [{grantType, hasAssertion, scope, resource, clientId,
// outcome, sub (of a verified assertion)}], mcp: {requests, unauthorized}} — never a token.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import { SignJWT, errors as joseErrors, generateKeyPair, jwtVerify } from 'jose';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { HOST, closeServers, listen, stopOn } from './serve.mjs';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PLATFORM_ISSUER = 'https://platform.test';
const TTL = Number(process.env.WORKLOAD_ACCESS_TTL ?? 3600);

const platformKeys = await generateKeyPair('ES256');
const tokens = new Map(); // access token -> {sub, scope, exp}
const stats = { tokenRequests: [], mcp: { requests: 0, unauthorized: 0 } };
let base = '';

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function token(req, res) {
  const form = new URLSearchParams(await readBody(req));
  const record = {
    grantType: form.get('grant_type'),
    hasAssertion: form.has('assertion'),
    scope: form.get('scope'),
    resource: form.get('resource'),
    clientId: form.get('client_id'),
    outcome: 'ok',
  };
  stats.tokenRequests.push(record);
  const refuse = (error, description) => {
    record.outcome = error;
    sendJson(res, 400, { error, error_description: description });
  };
  if (record.grantType !== JWT_BEARER) return refuse('unsupported_grant_type', 'only jwt-bearer');
  if (!record.hasAssertion) return refuse('invalid_request', 'missing assertion');
  if (record.resource !== `${base}/mcp`) return refuse('invalid_target', 'unknown resource');
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(form.get('assertion'), platformKeys.publicKey, {
      issuer: PLATFORM_ISSUER,
      audience: [base, `${base}/`],
    }));
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) return refuse('invalid_grant', 'the assertion is expired');
    if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'aud') {
      return refuse('invalid_grant', 'the assertion audience is invalid');
    }
    return refuse('invalid_grant', 'the assertion could not be verified');
  }
  record.sub = claims.sub;
  const scopes = (record.scope ?? '').split(' ').filter(Boolean);
  if (scopes.includes('forbidden')) return refuse('invalid_scope', 'scope not allowed');
  const accessToken = `wat-${randomBytes(16).toString('hex')}`;
  const scope = scopes.join(' ');
  tokens.set(accessToken, { sub: claims.sub, scope, exp: Date.now() / 1000 + TTL });
  return sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: TTL, scope });
}

function newMcpServer(auth) {
  const server = new Server({ name: 'latch-workload-peer', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: 'whoami', description: "The platform token's subject.", inputSchema: { type: 'object', properties: {} } },
      {
        name: 'add',
        description: 'Adds two numbers.',
        inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args = {} } = request.params;
    const text = (value) => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] });
    if (name === 'whoami') return text({ sub: auth.sub, scope: auth.scope });
    if (name === 'add') return text(String(Number(args.a) + Number(args.b)));
    return { ...text(`unknown tool ${name}`), isError: true };
  });
  return server;
}

async function mcp(req, res) {
  stats.mcp.requests += 1;
  const header = req.headers.authorization ?? '';
  const presented = header.startsWith('Bearer ') ? header.slice(7) : undefined;
  const auth = presented && tokens.get(presented);
  if (!auth || auth.exp <= Date.now() / 1000) {
    stats.mcp.unauthorized += 1;
    const error = presented ? ', error="invalid_token"' : '';
    res.writeHead(401, {
      'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"${error}`,
    });
    return res.end();
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' });
    return res.end();
  }
  const body = JSON.parse(await readBody(req));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await newMcpServer(auth).connect(transport);
  res.on('close', () => transport.close().catch(() => {}));
  return transport.handleRequest(req, res, body);
}

async function mint(req, res) {
  const { sub = 'workload', aud = base, expiresIn = '5m' } = JSON.parse((await readBody(req)) || '{}');
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(PLATFORM_ISSUER)
    .setSubject(sub)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(platformKeys.privateKey);
  sendJson(res, 200, { token: jwt });
}

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url, base);
  try {
    if (req.method === 'GET' && pathname.startsWith('/.well-known/oauth-protected-resource')) {
      return sendJson(res, 200, { resource: `${base}/mcp`, authorization_servers: [base], scopes_supported: ['mcp:tools'] });
    }
    if (req.method === 'GET' && pathname === '/.well-known/oauth-authorization-server') {
      return sendJson(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        grant_types_supported: [JWT_BEARER],
        token_endpoint_auth_methods_supported: ['none'],
        response_types_supported: ['code'],
        scopes_supported: ['mcp:tools', 'forbidden'],
      });
    }
    if (req.method === 'POST' && pathname === '/token') return await token(req, res);
    if (pathname === '/mcp') return await mcp(req, res);
    if (req.method === 'POST' && pathname === '/__test/mint') return await mint(req, res);
    if (req.method === 'POST' && pathname === '/__test/revoke') {
      tokens.clear();
      return sendJson(res, 200, { revoked: true });
    }
    if (req.method === 'GET' && pathname === '/__test/stats') return sendJson(res, 200, stats);
    return sendJson(res, 404, { error: 'not found' });
  } catch (err) {
    process.stderr.write(`error handling ${req.method} ${pathname}: ${err?.stack ?? err}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    else res.destroy();
    return undefined;
  }
});

base = `http://${HOST}:${await listen(server)}`;

function shutdown() {
  closeServers(server);
  process.exit(0);
}
stopOn(shutdown, { stdinPipe: true });
process.stdout.write(`${JSON.stringify({ url: base })}\n`);
