'use strict';

// Settings come from options passed to start(), else from the environment.
const DEFAULTS = Object.freeze({
  port: 9230,
  host: '127.0.0.1',
  maxSeconds: 30,
  defaultSeconds: 5,
});
const MIN_TOKEN_LENGTH = 16;

class ConfigError extends Error {}

function parseInteger(name, raw, low, high) {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new ConfigError(`${name} must be a whole number from ${low} to ${high}, got ${JSON.stringify(String(raw))}`);
  }
  return value;
}

function parseSwitch(name, raw) {
  if (raw === true || raw === '1' || raw === 'true') return true;
  if (raw === false || raw === '0' || raw === 'false') return false;
  throw new ConfigError(`${name} must be 1 or 0, got ${JSON.stringify(String(raw))}`);
}

function pick(options, key, env, envName) {
  if (options[key] !== undefined) return options[key];
  if (env[envName] !== undefined && env[envName] !== '') return env[envName];
  return undefined;
}

function resolveToken(options, env) {
  const token = pick(options, 'token', env, 'TRIAGE_AGENT_TOKEN');
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(
      `TRIAGE_AGENT_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters ` +
        '(make one with: node -e "console.log(require(\'crypto\').randomBytes(24).toString(\'hex\'))")',
    );
  }
  return token;
}

// Returns null when no token is set: the agent stays off.
function resolveConfig(options = {}, env = process.env) {
  const token = resolveToken(options, env);
  if (token === undefined) return null;
  const port = pick(options, 'port', env, 'TRIAGE_AGENT_PORT');
  const host = pick(options, 'host', env, 'TRIAGE_AGENT_HOST');
  const maxSeconds = pick(options, 'maxSeconds', env, 'TRIAGE_AGENT_MAX_SECONDS');
  const recompile = pick(options, 'recompile', env, 'TRIAGE_AGENT_RECOMPILE');
  return Object.freeze({
    token,
    port: port === undefined ? DEFAULTS.port : parseInteger('TRIAGE_AGENT_PORT', port, 0, 65535),
    host: host === undefined ? DEFAULTS.host : String(host),
    maxSeconds:
      maxSeconds === undefined ? DEFAULTS.maxSeconds : parseInteger('TRIAGE_AGENT_MAX_SECONDS', maxSeconds, 1, 300),
    recompile: recompile === undefined ? true : parseSwitch('TRIAGE_AGENT_RECOMPILE', recompile),
  });
}

module.exports = { ConfigError, DEFAULTS, MIN_TOKEN_LENGTH, resolveConfig };
