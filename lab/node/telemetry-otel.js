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
const { NodeSDK } = require('@opentelemetry/sdk-node');

function startOtelTelemetry({ serviceName, metricsPort, host }) {
  const exporter = new PrometheusExporter({ host, port: metricsPort });
  const sdk = new NodeSDK({
    serviceName,
    metricReader: exporter,
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

  return {
    telemetry: {
      // Frameworks such as Express report the matched route this way; plain
      // node:http has to do it by hand or the histogram has no http_route label.
      routeResolved(route) {
        const rpc = getRPCMetadata(context.active());
        if (rpc && rpc.type === RPCType.HTTP) rpc.route = route;
      },
      observeRequest() {},
      observeOutbound() {},
      watchPool() {},
      metricsHandler: null,
    },
    shutdown: () => sdk.shutdown(),
  };
}

module.exports = { startOtelTelemetry };
