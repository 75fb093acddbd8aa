'use strict';

const { describeFrame, frameKey } = require('./frames');
const { accumulate, boundedFolded, topRows } = require('./reduce');
const { withSession } = require('./session');

const SAMPLING_INTERVAL_US = 1000;
const SYNTHETIC = { idle: '(idle)', gc: '(garbage collector)', program: '(program)' };

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// Code optimised before a profile starts is reported without its inlined functions (V8
// loses them for code it did not see compiled), so a small function inlined into its caller
// would vanish from the profile. Switching precise coverage on and off discards optimised
// code once; what is hot is compiled again, now under the profiler's eyes, within moments.
// Skipped when Node itself collects coverage (NODE_V8_COVERAGE), which the switch would end.
async function recompileUnderProfiler(session) {
  if (process.env.NODE_V8_COVERAGE) return;
  await session.post('Profiler.startPreciseCoverage', { callCount: false, detailed: false });
  await session.post('Profiler.stopPreciseCoverage');
}

async function recordCpuProfile(seconds, { recompile = true } = {}) {
  return withSession(async (session) => {
    await session.post('Profiler.enable');
    try {
      await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await session.post('Profiler.start');
      if (recompile) await recompileUnderProfiler(session);
      await sleep(seconds * 1000);
      const { profile } = await session.post('Profiler.stop');
      return profile;
    } finally {
      await session.post('Profiler.disable');
    }
  });
}

function flattenCpuNodes(profile) {
  const indexById = new Map(profile.nodes.map((node, index) => [node.id, index]));
  const nodes = profile.nodes.map((node) => ({
    frame: describeFrame(node.callFrame),
    parent: -1,
    weight: node.hitCount || 0,
  }));
  profile.nodes.forEach((node, index) => {
    for (const childId of node.children || []) nodes[indexById.get(childId)].parent = index;
  });
  return nodes;
}

// The line with the most samples while each function was on top of the stack: where a
// function's own time goes, and where a caller's loop is when the runtime lost an inlined frame.
function hotLines(profile) {
  const ticksByKey = new Map();
  for (const node of profile.nodes) {
    if (!node.positionTicks) continue;
    const key = frameKey(describeFrame(node.callFrame));
    const ticks = ticksByKey.get(key) || new Map();
    for (const { line, ticks: count } of node.positionTicks) ticks.set(line, (ticks.get(line) || 0) + count);
    ticksByKey.set(key, ticks);
  }
  const hottest = new Map();
  for (const [key, ticks] of ticksByKey) hottest.set(key, [...ticks].sort((a, b) => b[1] - a[1])[0][0]);
  return hottest;
}

function syntheticSamples(selfRows, name) {
  const row = selfRows.find((candidate) => candidate.name === name && candidate.script === '');
  return row ? row.weight : 0;
}

function withSamples(hottest) {
  return (rows) =>
    rows.map(({ weight, ...frame }) => {
      const hotLine = hottest.get(frameKey(frame));
      return hotLine === undefined ? { ...frame, samples: weight } : { ...frame, hot_line: hotLine, samples: weight };
    });
}

// The reduced profile: numbers, function names, script paths and lines only.
function summariseCpuProfile(profile, seconds) {
  const { tables, weight } = accumulate(flattenCpuNodes(profile));
  const allSelf = topRows(tables.self, Infinity);
  const folded = boundedFolded(tables.folded);
  const asSamples = withSamples(hotLines(profile));
  return {
    kind: 'cpu',
    seconds,
    interval_us: SAMPLING_INTERVAL_US,
    samples: weight,
    idle_samples: syntheticSamples(allSelf, SYNTHETIC.idle),
    gc_samples: syntheticSamples(allSelf, SYNTHETIC.gc),
    program_samples: syntheticSamples(allSelf, SYNTHETIC.program),
    top_self: asSamples(allSelf.filter((row) => row.name !== SYNTHETIC.idle).slice(0, 25)),
    top_total: asSamples(topRows(tables.total).filter((row) => row.name !== SYNTHETIC.idle)),
    top_application: asSamples(topRows(tables.application)),
    folded: folded.stacks.map(({ stack, weight: samples }) => ({ stack, samples })),
    folded_other_samples: folded.otherWeight,
  };
}

async function captureCpuProfile(seconds, options) {
  return summariseCpuProfile(await recordCpuProfile(seconds, options), seconds);
}

module.exports = { captureCpuProfile, summariseCpuProfile };
