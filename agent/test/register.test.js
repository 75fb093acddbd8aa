'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const REGISTER = path.join(__dirname, '..', 'register.js');

function runWithAgent(env, script) {
  return spawnSync(process.execPath, ['--require', REGISTER, '-e', script], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 20000,
  });
}

test('without a token the application runs and nothing listens', () => {
  const run = runWithAgent({}, "console.log('app ran')");
  assert.strictEqual(run.status, 0);
  assert.strictEqual(run.stdout.trim(), 'app ran');
  assert.strictEqual(run.stderr, '');
});

test('a bad setting is reported and the application still runs', () => {
  const run = runWithAgent({ TRIAGE_AGENT_TOKEN: 'short' }, "console.log('app ran')");
  assert.strictEqual(run.status, 0);
  assert.strictEqual(run.stdout.trim(), 'app ran');
  assert.match(run.stderr, /triage agent: not started: TRIAGE_AGENT_TOKEN must be at least 16 characters/);
});

test('the agent neither keeps the process alive nor listens in worker threads', () => {
  const script = [
    "const { Worker } = require('node:worker_threads');",
    "const w = new Worker(\"require('node:worker_threads').parentPort.postMessage('worker ran')\", { eval: true });",
    "w.on('message', (m) => console.log(m));",
  ].join('\n');
  const env = { TRIAGE_AGENT_TOKEN: 'x'.repeat(20), TRIAGE_AGENT_PORT: '0' };
  const run = runWithAgent(env, script);
  assert.strictEqual(run.status, 0, run.stderr);
  assert.strictEqual(run.stdout.trim(), 'worker ran');
  assert.strictEqual(run.stderr.match(/listening on/g).length, 1);
});
