'use strict';

// Loaded with `node --require <path>/agent/register.js app.js` (or through NODE_OPTIONS).
// Starts the agent when TRIAGE_AGENT_TOKEN is set; never stops the application from starting.
// Worker threads preload it too: only the main thread listens (a profile covers that thread).
if (require('node:worker_threads').isMainThread) require('./index').startFromEnv();
