'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { busyLoop, startAgent } = require('./helpers');

const MAX_RESPONSE_BYTES = 128 * 1024;

const crypto = require('node:crypto');

// Where a marker comment sits in this file, counted from 1.
function lineOf(marker) {
  const lines = require('node:fs').readFileSync(__filename, 'utf8').split('\n');
  return lines.findIndex((line) => line.includes(`// ${marker}`)) + 1;
}

// Its time is spent inside Node's crypto internals: the profile must still name this
// function, the innermost frame of the application's own code.
function burnForAWhile() { // burnForAWhile starts here
  return crypto.pbkdf2Sync('secret', 'salt', 2000, 32, 'sha256');
}
const BURN_LINE = lineOf('burnForAWhile starts here');

const retained = [];
function leakyCache() { // leakyCache starts here
  for (let i = 0; i < 200; i += 1) retained.push({ id: i, label: `entry-${retained.length}` });
}
const LEAK_LINE = lineOf('leakyCache starts here');

test('a CPU profile names the function burning time, its script and line', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  const stop = busyLoop(burnForAWhile);
  t.after(stop);
  const { status, body } = await call('POST', '/v1/cpu-profile?seconds=1');
  assert.strictEqual(status, 200);
  const [culprit] = body.top_application;
  assert.deepStrictEqual({ name: culprit.name, script: culprit.script, line: culprit.line }, {
    name: 'burnForAWhile',
    script: __filename,
    line: BURN_LINE,
  });
  assert.ok(culprit.samples > body.samples / 3, `${culprit.samples} of ${body.samples}`);
  assert.ok(body.folded.some((row) => row.stack.includes(`;burnForAWhile profiles.test.js:${BURN_LINE};`)));
});

test('a heap profile names the allocation site that grows', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  const timer = setInterval(leakyCache, 10);
  t.after(() => clearInterval(timer));
  const { status, body } = await call('POST', '/v1/heap-profile?seconds=2');
  assert.strictEqual(status, 200);
  const [site] = body.application_sites;
  assert.deepStrictEqual({ name: site.name, script: site.script, line: site.line }, {
    name: 'leakyCache',
    script: __filename,
    line: LEAK_LINE,
  });
  assert.ok(site.second_bytes > site.first_bytes);
  assert.ok(body.spaces_after.some((space) => space.space === 'old_space'));
});

function innerLoop() { // innerLoop starts here
  const deadline = Date.now() + 5;
  let total = 0;
  while (Date.now() < deadline) total += Math.sqrt(total + 1);
  return total;
}

function outerCaller() {
  return innerLoop();
}

// A small function with a loop, inlined into its caller by the optimising compiler before the
// profile starts: without the recompilation at the start of a capture, V8 often charges its
// time to the caller.
test('a function inlined before the capture is still named', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  const stop = busyLoop(outerCaller);
  t.after(stop);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // hot enough to be optimised
  const { body } = await call('POST', '/v1/cpu-profile?seconds=1');
  const [culprit] = body.top_application;
  assert.deepStrictEqual([culprit.name, culprit.line], ['innerLoop', lineOf('innerLoop starts here')]);
});

// Thousands of distinct, long-named hot functions: the response must still be small and
// carry names and numbers only, never the functions' source.
function manyHotFunctions(count) {
  const functions = [];
  for (let i = 0; i < count; i += 1) {
    const name = `hot_${i}_${'x'.repeat(300)}`;
    // eslint-disable-next-line no-new-func
    functions.push(new Function(`return function ${name}() { const SOURCE_MARKER_${i} = 1; let s = 0; for (let j = 0; j < 2000; j += 1) s += j; return s + SOURCE_MARKER_${i}; };`)());
  }
  let next = 0;
  return () => {
    for (let k = 0; k < 50; k += 1) functions[(next += 1) % count]();
  };
}

test('responses stay bounded and carry no source text', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  const stop = busyLoop(manyHotFunctions(3000));
  t.after(stop);
  const { status, text, body } = await call('POST', '/v1/cpu-profile?seconds=1');
  assert.strictEqual(status, 200);
  assert.ok(text.length < MAX_RESPONSE_BYTES, `${text.length} bytes`);
  assert.ok(body.top_self.length <= 25 && body.top_total.length <= 25 && body.top_application.length <= 25);
  assert.ok(body.top_self.every((row) => row.name.length <= 120));
  assert.ok(!text.includes('SOURCE_MARKER'));
  assert.ok(!text.includes('for (let j'));
  const heap = await call('POST', '/v1/heap-profile?seconds=1');
  assert.ok(heap.text.length < MAX_RESPONSE_BYTES, `${heap.text.length} bytes`);
});
