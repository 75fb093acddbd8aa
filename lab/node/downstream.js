'use strict';

// A pricing dependency for the lab service.
//   node downstream.js --port N
//   GET  /price?sku=N        answers a price after a short delay
//   POST /admin/mode {"mode": "normal" | "slow" | "errors"}
//   GET  /admin/mode
// "slow" answers in 1-2 s; "errors" answers 503 for most calls.
const http = require('node:http');
const { parseFlags, toPort } = require('./config');

const MODES = ['normal', 'slow', 'errors'];
const ERROR_SHARE = 0.7;
let mode = 'normal';

function delayFor(currentMode) {
  if (currentMode === 'slow') return 1000 + Math.random() * 1000;
  return 5 + Math.random() * 20;
}

function send(res, statusCode, payload) {
  res.writeHead(statusCode, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

function handlePrice(url, res) {
  const sku = Number(url.searchParams.get('sku') || 0);
  setTimeout(() => {
    if (mode === 'errors' && Math.random() < ERROR_SHARE) {
      send(res, 503, { error: 'pricing backend unavailable' });
    } else {
      send(res, 200, { sku, price: Math.round((10 + (sku % 90)) * 100) / 100 });
    }
  }, delayFor(mode));
}

function handleMode(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let requested;
    try {
      requested = JSON.parse(Buffer.concat(chunks).toString('utf8')).mode;
    } catch {
      requested = undefined;
    }
    if (!MODES.includes(requested)) {
      send(res, 400, { error: `mode must be one of ${MODES.join(', ')}` });
      return;
    }
    mode = requested;
    send(res, 200, { mode });
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/price') return handlePrice(url, res);
  if (req.method === 'POST' && url.pathname === '/admin/mode') return handleMode(req, res);
  if (req.method === 'GET' && url.pathname === '/admin/mode') return send(res, 200, { mode });
  return send(res, 404, { error: 'not found' });
});

const port = toPort(parseFlags(process.argv.slice(2)).port || process.env.PORT || 3100, '--port');
server.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: true, port }));
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
