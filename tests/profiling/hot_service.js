'use strict';

// A stand-in service for the profiling tests, loaded with the agent through --require.
//   node --require agent/register.js hot_service.js cpu|leak|idle
const crypto = require('node:crypto');

const mode = process.argv[2] || 'idle';
const sessions = [];

function spinPricing() { // spinPricing starts here
  return crypto.pbkdf2Sync('price', 'salt', 3000, 32, 'sha256');
}

function rememberSessions() { // rememberSessions starts here
  for (let i = 0; i < 300; i += 1) sessions.push({ id: sessions.length, note: `session-${sessions.length}` });
}

if (mode === 'cpu') {
  const slice = () => {
    spinPricing();
    setImmediate(slice);
  };
  setImmediate(slice);
} else if (mode === 'leak') {
  setInterval(rememberSessions, 10);
} else {
  setInterval(() => {}, 1000);
}
