'use strict';

const http = require('node:http');
const { makeAuthorizer } = require('./auth');
const { captureCpuProfile } = require('./cpu');
const { captureHeapProfile, heapSpaces } = require('./heap');
const { activeResources } = require('./resources');
const { DEFAULTS } = require('./config');
const { version } = require('../package.json');

const MAX_URL_LENGTH = 256;
const MAX_CONNECTIONS = 8;

class RequestError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function send(res, status, payload, headers = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function requestedSeconds(url, maxSeconds) {
  const raw = url.searchParams.get('seconds');
  if (raw === null) return { seconds: Math.min(DEFAULTS.defaultSeconds, maxSeconds), requested: null };
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RequestError(400, `seconds must be a positive number (at most ${maxSeconds}), got ${JSON.stringify(raw.slice(0, 20))}`);
  }
  return { seconds: Math.min(value, maxSeconds), requested: value };
}

// One capture at a time: a profile slows the process a little, two would slow it twice.
function makeCaptureGate() {
  let busy = false;
  return {
    isBusy: () => busy,
    async run(work) {
      if (busy) throw new RequestError(429, 'a capture is already running; try again when it ends', { 'retry-after': '5' });
      busy = true;
      try {
        return await work();
      } finally {
        busy = false;
      }
    },
  };
}

function makeRoutes(config, gate) {
  const capture = (capturer) => async (url) => {
    const { seconds, requested } = requestedSeconds(url, config.maxSeconds);
    const summary = await gate.run(() => capturer(seconds));
    return { ...summary, requested_seconds: requested, max_seconds: config.maxSeconds };
  };
  return {
    'GET /v1/status': async () => ({
      agent: version,
      node: process.version,
      pid: process.pid,
      capturing: gate.isBusy(),
      max_seconds: config.maxSeconds,
    }),
    'GET /v1/resources': async () => activeResources(),
    'GET /v1/heap-spaces': async () => ({ kind: 'heap_spaces', spaces: heapSpaces() }),
    'POST /v1/cpu-profile': capture((seconds) => captureCpuProfile(seconds, { recompile: config.recompile })),
    'POST /v1/heap-profile': capture(captureHeapProfile),
  };
}

function route(routes, req) {
  if ((req.url || '').length > MAX_URL_LENGTH) throw new RequestError(414, 'request line too long');
  const url = new URL(req.url, 'http://agent.invalid');
  const handler = routes[`${req.method} ${url.pathname}`];
  if (handler) return () => handler(url);
  const paths = Object.keys(routes).map((key) => key.split(' ')[1]);
  if (paths.includes(url.pathname)) throw new RequestError(405, `${req.method} is not allowed on ${url.pathname}`);
  throw new RequestError(404, `no such endpoint; known: ${Object.keys(routes).join(', ')}`);
}

function makeHandler(config) {
  const authorized = makeAuthorizer(config.token);
  const routes = makeRoutes(config, makeCaptureGate());
  return async (req, res) => {
    req.resume();
    try {
      if (!authorized(req.headers.authorization)) {
        throw new RequestError(401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
      }
      send(res, 200, await route(routes, req)());
    } catch (err) {
      const status = err instanceof RequestError ? err.status : 500;
      const message = err instanceof RequestError ? err.message : `capture failed: ${String(err && err.message).slice(0, 200)}`;
      send(res, status, { error: message }, err.headers || {});
    }
  };
}

function createAgentServer(config) {
  const server = http.createServer(makeHandler(config));
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 10000;
  server.requestTimeout = (config.maxSeconds + 15) * 1000;
  return server;
}

module.exports = { createAgentServer };
