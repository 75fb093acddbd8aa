'use strict';

// Loaded with `node --require <path>/agent/register.js app.js` (or through NODE_OPTIONS).
// Starts the agent when TRIAGE_AGENT_TOKEN is set; never stops the application from starting.
require('./index').startFromEnv();
