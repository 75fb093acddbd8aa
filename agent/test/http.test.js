'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { TOKEN, eventually, startAgent } = require('./helpers');

test('requests without the token or with a wrong one are refused', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  const missing = await call('GET', '/v1/status', { token: null });
  assert.strictEqual(missing.status, 401);
  assert.strictEqual(missing.headers.get('www-authenticate'), 'Bearer');
  const wrong = await call('GET', '/v1/status', { token: `${TOKEN}x` });
  assert.strictEqual(wrong.status, 401);
  const refusedCapture = await call('POST', '/v1/cpu-profile?seconds=1', { token: 'wrong-but-long-enough' });
  assert.strictEqual(refusedCapture.status, 401);
  assert.ok(!refusedCapture.text.includes(TOKEN));
  const right = await call('GET', '/v1/status');
  assert.strictEqual(right.status, 200);
  assert.strictEqual(right.body.capturing, false);
});

test('a second capture while one runs gets 429', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  const first = call('POST', '/v1/cpu-profile?seconds=1');
  await eventually(async () => (await call('GET', '/v1/status')).body.capturing);
  const second = await call('POST', '/v1/heap-profile?seconds=1');
  assert.strictEqual(second.status, 429);
  assert.ok(Number(second.headers.get('retry-after')) > 0);
  assert.strictEqual((await first).status, 200);
  assert.strictEqual((await call('GET', '/v1/status')).body.capturing, false);
});

test('the duration is capped at the maximum', async (t) => {
  const { agent, call } = await startAgent({ maxSeconds: 1 });
  t.after(() => agent.stop());
  const startedAt = Date.now();
  const response = await call('POST', '/v1/cpu-profile?seconds=600');
  assert.strictEqual(response.status, 200);
  assert.strictEqual(response.body.seconds, 1);
  assert.strictEqual(response.body.requested_seconds, 600);
  assert.ok(Date.now() - startedAt < 30000);
});

test('a duration that is not a positive number is refused', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  for (const bad of ['abc', '-1', '0', 'Infinity']) {
    const response = await call('POST', `/v1/cpu-profile?seconds=${bad}`);
    assert.strictEqual(response.status, 400, bad);
    assert.match(response.body.error, /seconds must be a positive number/);
  }
});

test('unknown paths and methods are named', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  assert.strictEqual((await call('GET', '/v1/cpu-profile')).status, 405);
  const missing = await call('GET', '/nope');
  assert.strictEqual(missing.status, 404);
  assert.match(missing.body.error, /POST \/v1\/cpu-profile/);
});

test('resources and heap spaces are counted', async (t) => {
  const { agent, call } = await startAgent();
  t.after(() => agent.stop());
  const timer = setInterval(() => {}, 1000);
  t.after(() => clearInterval(timer));
  const resources = await call('GET', '/v1/resources');
  assert.strictEqual(resources.status, 200);
  assert.ok(resources.body.active_resources.Timeout >= 1);
  const spaces = await call('GET', '/v1/heap-spaces');
  assert.ok(spaces.body.spaces.some((space) => space.space === 'old_space' && space.used_bytes > 0));
});

test('stopping does not wait for a client that keeps its connection open', { timeout: 3000 }, async () => {
  const { agent, call } = await startAgent();
  assert.strictEqual((await call('GET', '/v1/status')).status, 200); // fetch keeps the socket
  await agent.stop();
});
