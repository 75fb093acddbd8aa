'use strict';

// Each fault reproduces a real failure mode of a Node.js service. Request-path
// faults are read by the route handlers (see app.js); background faults run
// timers while they are active and undo everything when switched off.
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');

const MB = 1024 * 1024;
const GROWTH_LIMIT_MB = Number(process.env.LAB_GROWTH_LIMIT_MB || 768);

const FAULTS = [
  'healthy',
  'event_loop_blocked',
  'cpu_saturated',
  'heap_leak',
  'native_memory_growth',
  'gc_pressure',
  'db_pool_saturated',
  'slow_queries',
  'slow_downstream',
  'downstream_errors',
  'unbounded_concurrency',
  'error_spike',
  'missing_index',
  'n_plus_one_queries',
  'lock_contention',
  'connection_leak',
  'background_dependency_failing',
  'gc_harmless',
  'near_capacity',
];

// Two faults at once are named `a+b`; each part must be a fault of its own.
function faultParts(name) {
  return String(name).split('+');
}

// What the downstream should do while a fault is active.
const DOWNSTREAM_MODE = { slow_downstream: 'slow', downstream_errors: 'errors' };

// Synchronous CPU work for a fixed wall time, whatever the machine speed.
function burnCpu(milliseconds) {
  const deadline = performance.now() + milliseconds;
  let digest = Buffer.alloc(0);
  while (performance.now() < deadline) {
    digest = crypto.pbkdf2Sync(digest, 'lab-salt', 200, 32, 'sha256');
  }
  return digest.toString('hex');
}

// Busy most of the time in short slices, yielding to I/O between them.
function startCpuSaturation(state) {
  const slice = () => {
    if (!state.running) return;
    burnCpu(25);
    setImmediate(slice);
  };
  setImmediate(slice);
}

// A "cache" keyed by request id that nobody ever evicts.
function startHeapLeak(state) {
  const cache = new Map();
  let nextKey = 0;
  state.timer = setInterval(function fillUnevictedCache() {
    if (process.memoryUsage().heapUsed > GROWTH_LIMIT_MB * MB) return;
    for (let i = 0; i < 1500; i += 1) {
      nextKey += 1;
      cache.set(`req-${nextKey}`, {
        id: nextKey,
        user: crypto.randomBytes(24).toString('hex'),
        tags: [`t${nextKey % 13}`, `t${nextKey % 7}`],
        at: Date.now(),
      });
    }
  }, 100);
  state.release = () => cache.clear();
}

// Buffers kept for "later upload" that never happens: memory outside the V8 heap.
function startNativeGrowth(state) {
  const retained = [];
  state.timer = setInterval(() => {
    if (process.memoryUsage().arrayBuffers > GROWTH_LIMIT_MB * MB) return;
    retained.push(Buffer.alloc(256 * 1024, 0x5a));
  }, 100);
  state.release = () => retained.splice(0);
}

// Busy but cheap collections: short-lived objects that die young. The collector works a
// tenth of the time, in pauses of about 10 ms that requests barely notice.
function startHarmlessGc(state) {
  let sink = 0;
  state.timer = setInterval(() => {
    for (let i = 0; i < 18000; i += 1) {
      const item = { i, label: `tmp-${i}`, values: [i, i + 1] };
      sink += item.values.length;
    }
    state.sink = sink;
  }, 10);
}

// Honest load: lots of short callbacks (2 ms each) that keep one core busy most of the time
// while yielding to I/O between them, so timers and requests are never held long.
function startNearCapacity(state) {
  const slice = () => {
    if (!state.running) return;
    burnCpu(2);
    setTimeout(slice, 1);
  };
  setImmediate(slice);
}

// Lots of medium-lived garbage: it survives a scavenge or two, gets promoted and
// then dies, which keeps both the young and the old generation collector busy.
function startGcPressure(state) {
  const window = [];
  state.timer = setInterval(function churnMediumLivedBatches() {
    const batch = [];
    for (let i = 0; i < 80000; i += 1) {
      batch.push({ i, label: `item-${i}`, values: [i, i * 2, i * 3] });
    }
    window.push(batch);
    if (window.length > 12) window.shift();
  }, 20);
  state.release = () => window.splice(0);
}

const BACKGROUND = {
  gc_harmless: startHarmlessGc,
  near_capacity: startNearCapacity,
  cpu_saturated: startCpuSaturation,
  heap_leak: startHeapLeak,
  native_memory_growth: startNativeGrowth,
  gc_pressure: startGcPressure,
};

class FaultSwitch {
  // `background` adds timers that need the app's resources (the pool, say) to BACKGROUND.
  constructor({ onChange, background } = {}) {
    this.name = 'healthy';
    this.parts = ['healthy'];
    this.backgrounds = [];
    this.onChange = onChange || (async () => {});
    this.starters = { ...BACKGROUND, ...(background || {}) };
  }

  is(name) {
    return this.parts.includes(name);
  }

  async set(name) {
    const parts = faultParts(name);
    const unknown = parts.filter((part) => !FAULTS.includes(part));
    if (unknown.length) {
      throw new Error(`unknown fault ${JSON.stringify(unknown[0])}; known: ${FAULTS.join(', ')}`);
    }
    this.stopBackground();
    this.name = name;
    this.parts = parts;
    for (const part of parts) {
      if (!this.starters[part]) continue;
      const state = { running: true };
      this.backgrounds.push(state);
      this.starters[part](state);
    }
    await this.onChange(name);
  }

  stopBackground() {
    for (const state of this.backgrounds) {
      state.running = false;
      if (state.timer) clearInterval(state.timer);
      if (state.release) state.release();
    }
    this.backgrounds = [];
  }
}

// The first value `table` has for any part of a (possibly compound) fault name.
function forFault(table, name) {
  const part = faultParts(name).find((one) => table[one] !== undefined);
  return part === undefined ? undefined : table[part];
}

module.exports = { FAULTS, DOWNSTREAM_MODE, FaultSwitch, burnCpu, faultParts, forFault };
