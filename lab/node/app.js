'use strict';

// The lab service: a few JSON routes over a pg pool and one HTTP dependency.
// Telemetry is injected so the same code runs under prom-client and OpenTelemetry.
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');
const db = require('./db');
const { DOWNSTREAM_MODE, FaultSwitch, burnCpu, forFault } = require('./faults');

const OUTBOUND_TIMEOUT_MS = 5000;
const FAN_OUT = 200;
const ERROR_SPIKE_SHARE = 0.4;
const N_PLUS_ONE_ORDERS = 50;
const HOT_SKU = 7;
const STOCK_SYNC_HOLD_MS = 2500;
const STOCK_SYNC_PAUSE_MS = 500;
const LEAK_SHARE = 0.2;
// A telemetry exporter with nowhere to send: nothing listens on the discard port.
const MISSING_COLLECTOR_URL = 'http://127.0.0.1:9';
const EXPORT_EVERY_MS = 200;
// Pool sizes per fault: tiny to provoke waiting; roomy so slow queries alone show.
const POOL_SIZE_FOR_FAULT = { db_pool_saturated: 2, slow_queries: 40 };

class HttpError extends Error {
  constructor(statusCode, message) {
    super(message);
    this.statusCode = statusCode;
  }
}

function randomBetween(low, high) {
  return low + Math.random() * (high - low);
}

function createDownstreamClient(baseUrl, telemetry) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const target = new URL(baseUrl);
  const serverAddress = `${target.hostname}:${target.port}`;

  function request(method, path, body) {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(new URL(path, target), {
        method, agent, timeout: OUTBOUND_TIMEOUT_MS, headers: { 'content-type': 'application/json' },
      }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const seconds = (performance.now() - started) / 1000;
          telemetry.observeOutbound({ serverAddress, method, statusCode: res.statusCode, seconds });
          resolve({ statusCode: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`downstream timed out after ${OUTBOUND_TIMEOUT_MS} ms`)));
      req.on('error', (err) => {
        const seconds = (performance.now() - started) / 1000;
        telemetry.observeOutbound({ serverAddress, method, statusCode: 0, seconds });
        reject(err);
      });
      req.end(body);
    });
  }
  return { request, close: () => agent.destroy() };
}

async function fetchPrice(downstream, sku) {
  const res = await downstream.request('GET', `/price?sku=${sku}`);
  if (res.statusCode >= 500) throw new HttpError(502, `downstream answered ${res.statusCode}`);
  return JSON.parse(res.body);
}

// Under event_loop_blocked, the first request that finds the in-memory pricing table older
// than its TTL rebuilds it synchronously (200-400 ms of CPU) while every other request waits:
// one or two stalls a second whatever the traffic, as long as there is traffic.
function createPricingTable(faults) {
  const ttlMs = 300;
  let builtAt = 0;
  let checksum = null;
  return {
    refreshIfStale() {
      if (!faults.is('event_loop_blocked')) return null;
      if (Date.now() - builtAt > ttlMs) {
        checksum = burnCpu(randomBetween(200, 400));
        builtAt = Date.now();
      }
      return checksum;
    },
  };
}

function buildRoutes({ pool, downstream, faults }) {
  const pricingTable = createPricingTable(faults);
  return {
    'GET /api/health': async () => ({ status: 'ok' }),
    'GET /api/orders': async () => {
      pricingTable.refreshIfStale();
      if (faults.is('db_pool_saturated')) return db.recentOrdersInTransaction(pool, 0.5);
      if (faults.is('missing_index')) return db.ordersByEmail(pool);
      if (faults.is('n_plus_one_queries')) return db.recentOrdersWithCustomers(pool, N_PLUS_ONE_ORDERS);
      if (faults.is('lock_contention')) await db.reserveStock(pool, HOT_SKU);
      if (faults.is('connection_leak')) {
        return db.orderForEditing(pool, { invalid: Math.random() < LEAK_SHARE });
      }
      const sleepSeconds = faults.is('slow_queries') ? randomBetween(0.3, 0.8) : 0;
      return db.recentOrders(pool, { sleepSeconds });
    },
    'GET /api/quote': async () => {
      const sku = Math.floor(Math.random() * 1000);
      if (!faults.is('unbounded_concurrency')) return fetchPrice(downstream, sku);
      const skus = Array.from({ length: FAN_OUT }, (_, i) => sku + i);
      const prices = await Promise.all(skus.map((s) => fetchPrice(downstream, s)));
      return { sku, bundle: prices.length };
    },
    'GET /api/report': async () => {
      const rows = await db.revenueByCustomer(pool);
      return { customers: rows.length, checksum: pricingTable.refreshIfStale() };
    },
    'GET /admin/fault': async () => ({ fault: faults.name }),
    'POST /admin/fault': async (body) => {
      await faults.set(body.fault);
      return { fault: faults.name };
    },
  };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch {
        reject(new HttpError(400, 'request body must be JSON'));
      }
    });
    req.on('error', reject);
  });
}

function send(res, statusCode, payload) {
  res.writeHead(statusCode, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

function createHandler({ routes, faults, telemetry }) {
  return async (req, res) => {
    const started = performance.now();
    const path = new URL(req.url, 'http://localhost').pathname;
    if (telemetry.metricsHandler && path === '/metrics') return telemetry.metricsHandler(req, res);
    const key = `${req.method} ${path}`;
    const handler = routes[key];
    const route = handler ? path : 'unmatched';
    telemetry.routeResolved(route);
    let statusCode = 200;
    try {
      if (!handler) throw new HttpError(404, `no route for ${key}`);
      if (faults.is('error_spike') && path.startsWith('/api/') && path !== '/api/health'
          && Math.random() < ERROR_SPIKE_SHARE) {
        throw new HttpError(500, 'internal error');
      }
      const body = req.method === 'POST' ? await readJson(req) : {};
      send(res, 200, await handler(body));
    } catch (err) {
      statusCode = err.statusCode || 500;
      send(res, statusCode, { error: err.message });
    }
    if (!path.startsWith('/admin/')) {
      const seconds = (performance.now() - started) / 1000;
      telemetry.observeRequest({ method: req.method, route, statusCode, seconds });
    }
    return undefined;
  };
}

// Under lock_contention, a stock sync keeps the hot SKU's row locked most of the time.
function startStockSync(pool, state) {
  (async () => {
    while (state.running) {
      await db.syncStockHoldingLock(pool, HOT_SKU, STOCK_SYNC_HOLD_MS).catch(() => {});
      await sleep(STOCK_SYNC_PAUSE_MS);
    }
  })();
}

// Under background_dependency_failing, an exporter posts to a collector that is not there,
// outside any request: every call fails while no request does.
function startFailingExporter(telemetry, state) {
  const collector = createDownstreamClient(MISSING_COLLECTOR_URL, telemetry);
  state.timer = setInterval(() => {
    collector.request('POST', '/v1/metrics', '{}').catch(() => {});
  }, EXPORT_EVERY_MS);
  state.release = () => collector.close();
}

function poolSizeFor(fault) {
  return forFault(POOL_SIZE_FOR_FAULT, fault) || db.NORMAL_POOL_SIZE;
}

async function startApp(config, telemetry) {
  const pool = db.createPool(poolSizeFor(config.fault));
  telemetry.watchPool(pool);
  await db.ensureSchema(pool);
  const downstream = createDownstreamClient(config.downstreamUrl, telemetry);
  const faults = new FaultSwitch({
    background: {
      lock_contention: (state) => startStockSync(pool, state),
      background_dependency_failing: (state) => startFailingExporter(telemetry, state),
    },
    onChange: async (name) => {
      pool.options.max = poolSizeFor(name);
      const mode = forFault(DOWNSTREAM_MODE, name) || 'normal';
      const res = await downstream.request('POST', '/admin/mode', JSON.stringify({ mode }));
      if (res.statusCode !== 200) throw new Error(`downstream refused mode ${mode}: ${res.body}`);
    },
  });
  await faults.set(config.fault);
  const routes = buildRoutes({ pool, downstream, faults });
  const server = http.createServer(createHandler({ routes, faults, telemetry }));
  await new Promise((resolve) => server.listen(config.port, config.host, resolve));
  const stop = async () => {
    faults.stopBackground();
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
    downstream.close();
    await pool.end();
  };
  return { server, faults, stop };
}

module.exports = { startApp };
