'use strict';

const { performance } = require('node:perf_hooks');
const MAX_KINDS = 50;

function countBy(names) {
  const counts = {};
  for (const name of names.slice(0, 100000)) {
    const key = String(name).slice(0, 80);
    if (counts[key] !== undefined || Object.keys(counts).length < MAX_KINDS) counts[key] = (counts[key] || 0) + 1;
  }
  return counts;
}

// What keeps the event loop alive, by type, and how many listeners the process object holds.
function activeResources() {
  const kinds = typeof process.getActiveResourcesInfo === 'function' ? process.getActiveResourcesInfo() : [];
  const listeners = {};
  for (const event of process.eventNames().slice(0, MAX_KINDS)) {
    listeners[String(event).slice(0, 80)] = process.listenerCount(event);
  }
  const utilization = performance.eventLoopUtilization();
  return {
    kind: 'resources',
    active_resources: countBy(kinds),
    active_resources_supported: typeof process.getActiveResourcesInfo === 'function',
    process_listeners: listeners,
    event_loop_utilization: Number(utilization.utilization.toFixed(4)),
    memory: process.memoryUsage(),
    uptime_seconds: Math.round(process.uptime()),
  };
}

module.exports = { activeResources };
