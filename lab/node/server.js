'use strict';

// Entry point: node server.js --flavour promclient|otel --port N [--metrics-port N]
//   [--fault NAME] [--downstream URL] [--service-name NAME]
// Prints one JSON line {"ready": true, ...} once it accepts requests.
const { loadConfig } = require('./config');

async function main() {
  const config = loadConfig();
  let telemetry;
  let shutdownTelemetry = async () => {};
  if (config.flavour === 'otel') {
    // Loaded first so the instrumentations can patch http and pg.
    const otel = require('./telemetry-otel').startOtelTelemetry(config);
    telemetry = otel.telemetry;
    shutdownTelemetry = otel.shutdown;
  } else {
    telemetry = require('./telemetry-promclient').createPromClientTelemetry(config);
  }
  const { startApp } = require('./app');
  const app = await startApp(config, telemetry);
  const stop = async () => {
    await app.stop();
    await shutdownTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const { flavour, port, metricsPort, fault, serviceName } = config;
  console.log(JSON.stringify({ ready: true, flavour, port, metricsPort, fault, serviceName }));
}

main().catch((err) => {
  console.error(`lab service failed to start: ${err.stack || err}`);
  process.exit(1);
});
