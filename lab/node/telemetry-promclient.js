'use strict';

// prom-client flavour: default Node.js metrics plus hand-written HTTP and pool
// metrics, all served on the service's own /metrics route.
const client = require('prom-client');

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Metric styles: `default`, or `prefixed`: the default metrics under `shop_` and the request
// histogram labelled by `path`, as express-prom-bundle exports it.
function createPromClientTelemetry({ serviceName, metricsStyle }) {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service: serviceName });
  const prefixed = metricsStyle === 'prefixed';
  client.collectDefaultMetrics({
    register: registry, eventLoopMonitoringPrecision: 10, prefix: prefixed ? 'shop_' : '',
  });
  const routeLabel = prefixed ? 'path' : 'route';

  const serverDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of inbound HTTP requests, by route template.',
    labelNames: ['method', routeLabel, 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const clientDuration = new client.Histogram({
    name: 'http_client_request_duration_seconds',
    help: 'Duration of outbound HTTP calls; status_code 0 means no answer.',
    labelNames: ['server_address', 'method', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const pools = [];
  const poolGauge = (name, help, labelNames, read) => new client.Gauge({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const pool of pools) read(this, pool);
    },
  });
  poolGauge('db_client_connection_count', 'Open pool connections by state.', ['state'], (g, pool) => {
    g.inc({ state: 'idle' }, pool.idleCount);
    g.inc({ state: 'used' }, pool.totalCount - pool.idleCount);
  });
  poolGauge('db_client_connection_max', 'Largest number of connections the pool may open.', [],
    (g, pool) => g.inc(pool.options.max));
  poolGauge('db_client_connection_pending_requests', 'Callers waiting for a pool connection.', [],
    (g, pool) => g.inc(pool.waitingCount));
  const queryDuration = new client.Histogram({
    name: 'db_client_operation_duration_seconds',
    help: 'Duration of database queries.',
    labelNames: ['operation'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  return {
    routeResolved() {},
    observeRequest({ method, route, statusCode, seconds }) {
      serverDuration.observe({ method, [routeLabel]: route, status_code: String(statusCode) },
        seconds);
    },
    observeOutbound({ serverAddress, method, statusCode, seconds }) {
      clientDuration.observe({ server_address: serverAddress, method, status_code: String(statusCode) },
        seconds);
    },
    watchPool(pool) {
      pools.push(pool);
      pool.on('connect', (client) => timeQueries(client, queryDuration));
    },
    async metricsHandler(req, res) {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    },
  };
}

// Times every query a pooled client runs (pool.query goes through client.query too, and so
// do transactions); an operation is the first SQL keyword. pg calls client.query both with
// a callback and for a promise, so both are timed.
function timeQueries(client, histogram) {
  const original = client.query.bind(client);
  client.query = (config, values, callback) => {
    const text = typeof config === 'string' ? config : (config && config.text) || '';
    const end = histogram.startTimer({ operation: text.trim().split(/\s+/)[0].toUpperCase() });
    if (typeof values === 'function') return original(config, (err, res) => { end(); values(err, res); });
    if (typeof callback === 'function') {
      return original(config, values, (err, res) => { end(); callback(err, res); });
    }
    const result = original(config, values);
    if (!result || typeof result.then !== 'function') {
      end();
      return result;
    }
    return result.then((res) => { end(); return res; }, (err) => { end(); throw err; });
  };
}

module.exports = { createPromClientTelemetry };
