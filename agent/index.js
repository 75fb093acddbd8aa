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
    stop: () => new Promise((resolve) => server.close(() => resolve())),
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
