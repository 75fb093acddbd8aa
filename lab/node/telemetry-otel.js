'use strict';

// OpenTelemetry flavour: the NodeSDK with http, pg and runtime instrumentations
// plus host metrics (process CPU and memory), exported for Prometheus on a port
// of its own. Must be started before `pg` or `node:http` users are loaded.

// Metrics only: without these the SDK would try to ship spans and logs over OTLP.
process.env.OTEL_TRACES_EXPORTER = process.env.OTEL_TRACES_EXPORTER || 'none';
process.env.OTEL_LOGS_EXPORTER = process.env.OTEL_LOGS_EXPORTER || 'none';

const { context, metrics } = require('@opentelemetry/api');
const { getRPCMetadata, RPCType } = require('@opentelemetry/core');
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
const { HostMetrics } = require('@opentelemetry/host-metrics');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg');
const { RuntimeNodeInstrumentation } = require('@opentelemetry/instrumentation-runtime-node');
const { NodeSDK, metrics: sdkMetrics } = require('@opentelemetry/sdk-node');

const PREFIX = 'shop';
const LEGACY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

// Metric styles: `default` (the SDK's stable HTTP histograms), `prefixed` (every name under
// the exporter's `shop_` prefix), `legacy_http` (the older `http.server.duration` and
// `http.client.duration` histograms in milliseconds, as older instrumentations export them).
function startOtelTelemetry({ serviceName, metricsPort, host, metricsStyle }) {
  const prefix = metricsStyle === 'prefixed' ? PREFIX : '';
  const exporter = new PrometheusExporter({ host, port: metricsPort, prefix });
  const legacy = metricsStyle === 'legacy_http';
  const sdk = new NodeSDK({
    serviceName,
    metricReader: exporter,
    views: legacy ? stableHttpDropped() : [],
    instrumentations: [
      new HttpInstrumentation({
        // The exporter's own /metrics server is instrumented too; scrapes are not traffic.
        ignoreIncomingRequestHook: (req) => /^\/(admin\/|metrics)/.test(req.url || ''),
      }),
      new PgInstrumentation(),
      new RuntimeNodeInstrumentation({ monitoringPrecision: 10 }),
    ],
  });
  sdk.start();
  new HostMetrics({ meterProvider: metrics.getMeterProvider(), name: 'lab-host-metrics' }).start();
  const older = legacy ? legacyHttpHistograms() : null;

  return {
    telemetry: {
      // Frameworks such as Express report the matched route this way; plain
      // node:http has to do it by hand or the histogram has no http_route label.
      routeResolved(route) {
        const rpc = getRPCMetadata(context.active());
        if (rpc && rpc.type === RPCType.HTTP) rpc.route = route;
      },
      observeRequest(request) {
        if (older) older.observeRequest(request);
      },
      observeOutbound(call) {
        if (older) older.observeOutbound(call);
      },
      watchPool() {},
      metricsHandler: null,
    },
    shutdown: () => sdk.shutdown(),
  };
}

function stableHttpDropped() {
  const drop = { type: sdkMetrics.AggregationType.DROP };
  return [
    { instrumentName: 'http.server.request.duration', aggregation: drop },
    { instrumentName: 'http.client.request.duration', aggregation: drop },
  ];
}

function legacyHttpHistograms() {
  const meter = metrics.getMeter('lab-legacy-http');
  const advice = { explicitBucketBoundaries: LEGACY_BUCKETS_MS };
  const server = meter.createHistogram('http.server.duration', { unit: 'ms', advice });
  const client = meter.createHistogram('http.client.duration', { unit: 'ms', advice });
  return {
    observeRequest({ method, route, statusCode, seconds }) {
      server.record(seconds * 1000,
        { 'http.method': method, 'http.route': route, 'http.status_code': statusCode });
    },
    observeOutbound({ serverAddress, method, statusCode, seconds }) {
      const [name, port] = serverAddress.split(':');
      client.record(seconds * 1000, {
        'http.method': method, 'net.peer.name': name, 'net.peer.port': port,
        'http.status_code': statusCode || 500,
      });
    },
  };
}

module.exports = { startOtelTelemetry };
