'use strict';

// The triage bot's agent: a small authenticated HTTP endpoint inside the process that
// captures short CPU and sampling-heap profiles on request. Off unless a token is given.
//
//   const agent = await require('triage-bot-node-agent').start({ token, port: 9230 });
//   ...
//   await agent.stop();
const { ConfigError, resolveConfig } = require('./lib/config');
const { createAgentServer } = require('./lib/server');

function listen(server, config) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// Node 19+ closes idle keep-alive connections in close(); Node 18 waits for the client to
// drop them (5 s with fetch), unless told to.
function stop(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (server.closeIdleConnections) server.closeIdleConnections();
  });
}

// Resolves to null when no token is configured (the agent stays off), else to a handle.
async function start(options = {}) {
  const config = resolveConfig(options, options.env || process.env);
  if (config === null) return null;
  const server = createAgentServer(config);
  await listen(server, config);
  server.unref(); // never keeps the application alive on its own
  const { address, port } = server.address();
  return {
    address,
    port,
    stop: () => stop(server),
  };
}

function report(message) {
  process.stderr.write(`triage agent: ${message}\n`);
}

// For register.js: reads the environment, reports problems on stderr, never throws.
function startFromEnv() {
  return start().then(
    (handle) => {
      if (handle) report(`listening on ${handle.address}:${handle.port}`);
      return handle;
    },
    (err) => {
      report(`not started: ${err.message}`);
      return null;
    },
  );
}

module.exports = { start, startFromEnv, ConfigError };
