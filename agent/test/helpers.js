'use strict';

const { start } = require('..');

const TOKEN = 'test-token-0123456789abcdef';

async function startAgent(options = {}) {
  const agent = await start({ token: TOKEN, port: 0, host: '127.0.0.1', env: {}, ...options });
  const base = `http://127.0.0.1:${agent.port}`;
  const call = async (method, path, { token = TOKEN } = {}) => {
    const headers = token === null ? {} : { authorization: `Bearer ${token}` };
    const response = await fetch(`${base}${path}`, { method, headers });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
  };
  return { agent, call };
}

async function eventually(condition, { timeoutMs = 5000, everyMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

// Keeps the event loop busy in short slices until stopped, like a loaded service.
function busyLoop(work) {
  let running = true;
  const slice = () => {
    if (!running) return;
    work();
    setImmediate(slice);
  };
  setImmediate(slice);
  return () => {
    running = false;
  };
}

module.exports = { TOKEN, busyLoop, eventually, startAgent };
