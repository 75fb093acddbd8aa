'use strict';

const v8 = require('node:v8');
const { describeFrame, frameKey } = require('./frames');
const { accumulate, boundedFolded, topRows, TOP_FUNCTIONS } = require('./reduce');
const { withSession } = require('./session');

// One sample per 32 KiB allocated on average: cheap enough to run on a busy service.
const SAMPLING_INTERVAL_BYTES = 32 * 1024;
const CANDIDATE_SITES = 400;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function heapSpaces() {
  return v8.getHeapSpaceStatistics().map((space) => ({
    space: space.space_name,
    size_bytes: space.space_size,
    used_bytes: space.space_used_size,
    available_bytes: space.space_available_size,
  }));
}

function flattenHeapTree(head) {
  const nodes = [];
  const pending = [{ node: head, parent: -1 }];
  while (pending.length > 0) {
    const { node, parent } = pending.pop();
    const index = nodes.length;
    nodes.push({ frame: describeFrame(node.callFrame), parent, weight: node.selfSize || 0 });
    for (const child of node.children || []) pending.push({ node: child, parent: index });
  }
  return nodes;
}

// Live sampled bytes per site: allocations since sampling began that are still reachable.
function reading(profile) {
  const { tables, weight } = accumulate(flattenHeapTree(profile.head));
  return { tables, weight };
}

function bytesByKey(table) {
  const bytes = new Map();
  for (const [key, row] of table) bytes.set(key, row.weight);
  return bytes;
}

// Sites ranked by how much their live bytes grew between the two readings.
function growingSites(firstTable, secondTable) {
  const before = bytesByKey(firstTable);
  return topRows(secondTable, CANDIDATE_SITES)
    .map(({ weight, ...frame }) => ({
      ...frame,
      first_bytes: before.get(frameKey(frame)) || 0,
      second_bytes: weight,
    }))
    .sort((a, b) => b.second_bytes - b.first_bytes - (a.second_bytes - a.first_bytes))
    .slice(0, TOP_FUNCTIONS);
}

async function recordTwoReadings(seconds) {
  return withSession(async (session) => {
    await session.post('HeapProfiler.enable');
    try {
      await session.post('HeapProfiler.startSampling', { samplingInterval: SAMPLING_INTERVAL_BYTES });
      await sleep((seconds * 1000) / 2);
      const first = (await session.post('HeapProfiler.getSamplingProfile')).profile;
      await sleep((seconds * 1000) / 2);
      const second = (await session.post('HeapProfiler.stopSampling')).profile;
      return { first, second };
    } finally {
      await session.post('HeapProfiler.disable');
    }
  });
}

function summariseHeapReadings(first, second, seconds, spacesBefore) {
  const a = reading(first);
  const b = reading(second);
  const folded = boundedFolded(b.tables.folded);
  return {
    kind: 'heap',
    seconds,
    sampling_interval_bytes: SAMPLING_INTERVAL_BYTES,
    first_at_seconds: seconds / 2,
    first_bytes: a.weight,
    second_bytes: b.weight,
    application_sites: growingSites(a.tables.application, b.tables.application),
    self_sites: growingSites(a.tables.self, b.tables.self),
    spaces_before: spacesBefore,
    spaces_after: heapSpaces(),
    folded: folded.stacks.map(({ stack, weight }) => ({ stack, bytes: weight })),
    folded_other_bytes: folded.otherWeight,
  };
}

async function captureHeapProfile(seconds) {
  const spacesBefore = heapSpaces();
  const { first, second } = await recordTwoReadings(seconds);
  return summariseHeapReadings(first, second, seconds, spacesBefore);
}

module.exports = { captureHeapProfile, heapSpaces };
