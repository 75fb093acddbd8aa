'use strict';

// Reduces a profile tree to bounded tables: per function self weight, inclusive weight and
// weight charged to the innermost application frame, plus folded stacks for a flame graph.
const { frameKey, isApplicationFrame, shortLabel } = require('./frames');

const TOP_FUNCTIONS = 25;
const MAX_STACK_FRAMES = 48;
const FOLDED_BUDGET_CHARS = 48 * 1024;
const SKIPPED_ROOT = '(root)';

// nodes: [{frame, parent (index or -1), weight}] in any order.
function pathOf(nodes, index) {
  const path = [];
  for (let at = index; at !== -1; at = nodes[at].parent) {
    if (nodes[at].frame.name !== SKIPPED_ROOT || nodes[at].parent !== -1) path.push(nodes[at].frame);
  }
  return path.reverse();
}

function add(table, frame, weight) {
  const key = frameKey(frame);
  const row = table.get(key);
  if (row) row.weight += weight;
  else table.set(key, { frame, weight });
}

function innermostApplicationFrame(path) {
  for (let i = path.length - 1; i >= 0; i -= 1) {
    if (isApplicationFrame(path[i])) return path[i];
  }
  return null;
}

function shortenStack(path) {
  const labels = path.map(shortLabel);
  if (labels.length <= MAX_STACK_FRAMES) return labels;
  const head = Math.floor(MAX_STACK_FRAMES / 3);
  return [...labels.slice(0, head), '…', ...labels.slice(labels.length - (MAX_STACK_FRAMES - head - 1))];
}

function accumulate(nodes) {
  const tables = { self: new Map(), total: new Map(), application: new Map(), folded: new Map() };
  let weight = 0;
  nodes.forEach((node, index) => {
    if (node.weight <= 0) return;
    weight += node.weight;
    const path = pathOf(nodes, index);
    add(tables.self, node.frame, node.weight);
    const seen = new Set();
    for (const frame of path) {
      const key = frameKey(frame);
      if (!seen.has(key)) add(tables.total, frame, node.weight);
      seen.add(key);
    }
    const owner = innermostApplicationFrame(path);
    if (owner) add(tables.application, owner, node.weight);
    const stack = shortenStack(path).join(';');
    tables.folded.set(stack, (tables.folded.get(stack) || 0) + node.weight);
  });
  return { tables, weight };
}

function topRows(table, limit = TOP_FUNCTIONS) {
  return [...table.values()]
    .sort((a, b) => b.weight - a.weight)
    .slice(0, limit)
    .map(({ frame, weight }) => ({ ...frame, weight }));
}

// The heaviest stacks that fit the budget; the rest is one number.
function boundedFolded(folded) {
  const stacks = [];
  let used = 0;
  let otherWeight = 0;
  for (const [stack, weight] of [...folded.entries()].sort((a, b) => b[1] - a[1])) {
    if (used + stack.length > FOLDED_BUDGET_CHARS) {
      otherWeight += weight;
      continue;
    }
    used += stack.length;
    stacks.push({ stack, weight });
  }
  return { stacks, otherWeight };
}

module.exports = { accumulate, boundedFolded, topRows, TOP_FUNCTIONS, FOLDED_BUDGET_CHARS };
