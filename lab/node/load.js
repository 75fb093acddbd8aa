'use strict';

// Mixed traffic for lab services, open loop at a fixed rate per target.
//   node load.js --target http://127.0.0.1:3000[,http://127.0.0.1:3001] --rps 30 --duration 60
// Only loopback targets are accepted; the run always ends after --duration seconds
// (at most one hour), and in-flight requests are capped per target.
const http = require('node:http');
const { parseFlags } = require('./config');

const MIX = [
  ['/api/orders', 45],
  ['/api/quote', 35],
  ['/api/health', 15],
  ['/api/report', 5],
];
const MAX_DURATION_S = 3600;
const REQUEST_TIMEOUT_MS = 10000;
const TICK_MS = 50;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function pickPath() {
  let roll = Math.random() * 100;
  for (const [path, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return path;
  }
  return MIX[0][0];
}

function parseTargets(value) {
  const targets = String(value || '').split(',').filter(Boolean).map((text) => new URL(text));
  if (targets.length === 0) throw new Error('--target needs at least one URL');
  for (const url of targets) {
    if (!LOOPBACK.has(url.hostname)) throw new Error(`refusing non-loopback target ${url.host}`);
  }
  return targets;
}

function fire(target, stats, agent) {
  stats.inflight += 1;
  stats.sent += 1;
  const req = http.get(new URL(pickPath(), target), { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
    res.resume();
    res.on('end', () => {
      stats.inflight -= 1;
      stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] || 0) + 1;
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => {
    stats.inflight -= 1;
    stats.failed += 1;
  });
}

function main() {
  const flags = parseFlags(process.argv.slice(2));
  const targets = parseTargets(flags.target || process.env.LOAD_TARGET);
  const rps = Math.max(0.1, Number(flags.rps || 30));
  const durationS = Math.min(MAX_DURATION_S, Math.max(1, Number(flags.duration || 60)));
  const maxInflight = Math.max(1, Number(flags['max-inflight'] || 100));
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInflight });
  const runs = targets.map((target) => ({
    target, credit: 0, stats: { sent: 0, failed: 0, skipped: 0, inflight: 0, byStatus: {} },
  }));
  const timer = setInterval(() => {
    for (const run of runs) {
      run.credit += (rps * TICK_MS) / 1000;
      while (run.credit >= 1) {
        run.credit -= 1;
        if (run.stats.inflight >= maxInflight) run.stats.skipped += 1;
        else fire(run.target, run.stats, agent);
      }
    }
  }, TICK_MS);
  const finish = () => {
    clearInterval(timer);
    agent.destroy();
    const summary = runs.map(({ target, stats }) => ({ target: target.href, ...stats }));
    console.log(JSON.stringify({ done: true, summary }));
    process.exit(0);
  };
  setTimeout(finish, durationS * 1000);
  process.once('SIGTERM', finish);
  process.once('SIGINT', finish);
  console.log(JSON.stringify({ ready: true, targets: runs.length, rps, durationS }));
}

main();
