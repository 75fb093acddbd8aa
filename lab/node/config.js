'use strict';

// Command-line flags win over environment variables; both are optional.
// Flags: --flavour promclient|otel --port N --metrics-port N --fault NAME
//        --downstream URL --service-name NAME --metrics-style default|prefixed|legacy_http
const FLAVOURS = ['promclient', 'otel'];
const METRICS_STYLES = { promclient: ['default', 'prefixed'], otel: ['default', 'prefixed', 'legacy_http'] };

function parseFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else {
      flags[arg.slice(2)] = argv[i + 1];
      i += 1;
    }
  }
  return flags;
}

function toPort(value, name) {
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${name} must be a TCP port number, got ${JSON.stringify(value)}`);
  }
  return port;
}

function loadConfig(argv = process.argv.slice(2), env = process.env) {
  const flags = parseFlags(argv);
  const flavour = flags.flavour || env.LAB_FLAVOUR || 'promclient';
  if (!FLAVOURS.includes(flavour)) {
    throw new Error(`--flavour must be one of ${FLAVOURS.join(', ')}, got ${flavour}`);
  }
  const port = toPort(flags.port || env.PORT || 3000, '--port');
  const metricsPort = flavour === 'otel'
    ? toPort(flags['metrics-port'] || env.METRICS_PORT || 9464, '--metrics-port')
    : port;
  const metricsStyle = flags['metrics-style'] || env.LAB_METRICS_STYLE || 'default';
  if (!METRICS_STYLES[flavour].includes(metricsStyle)) {
    throw new Error(`--metrics-style for ${flavour} must be one of `
      + `${METRICS_STYLES[flavour].join(', ')}, got ${metricsStyle}`);
  }
  return {
    flavour,
    metricsStyle,
    port,
    metricsPort,
    host: '127.0.0.1',
    fault: flags.fault || env.LAB_FAULT || 'healthy',
    downstreamUrl: flags.downstream || env.DOWNSTREAM_URL || 'http://127.0.0.1:3100',
    serviceName: flags['service-name'] || env.SERVICE_NAME || `lab-${flavour}`,
  };
}

module.exports = { loadConfig, parseFlags, toPort };
