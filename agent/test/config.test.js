'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { start, ConfigError } = require('..');
const { resolveConfig } = require('../lib/config');

test('the agent stays off without a token', async () => {
  assert.strictEqual(await start({ env: {} }), null);
  assert.strictEqual(resolveConfig({}, { TRIAGE_AGENT_PORT: '9230' }), null);
});

test('a short token is refused with the way to make a good one', async () => {
  await assert.rejects(start({ env: { TRIAGE_AGENT_TOKEN: 'short' } }), (err) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /at least 16 characters/);
    assert.match(err.message, /randomBytes/);
    return true;
  });
});

test('settings come from the environment, loopback by default', () => {
  const env = { TRIAGE_AGENT_TOKEN: 'x'.repeat(20), TRIAGE_AGENT_PORT: '9333', TRIAGE_AGENT_MAX_SECONDS: '12' };
  const config = resolveConfig({}, env);
  assert.deepStrictEqual(
    { ...config, token: undefined },
    { token: undefined, port: 9333, host: '127.0.0.1', maxSeconds: 12, recompile: true },
  );
  assert.strictEqual(resolveConfig({}, { ...env, TRIAGE_AGENT_RECOMPILE: '0' }).recompile, false);
  assert.throws(() => resolveConfig({}, { ...env, TRIAGE_AGENT_RECOMPILE: 'maybe' }), /TRIAGE_AGENT_RECOMPILE must be 1 or 0/);
  assert.strictEqual(resolveConfig({}, { ...env, TRIAGE_AGENT_HOST: '0.0.0.0' }).host, '0.0.0.0');
});

test('a bad port names the variable and the range', () => {
  assert.throws(
    () => resolveConfig({}, { TRIAGE_AGENT_TOKEN: 'x'.repeat(20), TRIAGE_AGENT_PORT: 'nine' }),
    /TRIAGE_AGENT_PORT must be a whole number from 0 to 65535, got "nine"/,
  );
});
