'use strict';

// What a frame may reveal: a function name, a script path and a line. Each is cut to a
// bounded length so a response stays small whatever the application's names look like.
const MAX_NAME = 120;
const MAX_SCRIPT = 200;
// The agent's own frames are never the application's culprit.
const AGENT_DIR = `${__dirname}${require('node:path').sep}`;

function cut(text, limit) {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function scriptPath(url) {
  if (!url) return '';
  return cut(url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url, MAX_SCRIPT);
}

// Line numbers in the inspector protocol count from 0; people count from 1.
function describeFrame(callFrame) {
  const script = scriptPath(callFrame.url);
  return {
    name: cut(callFrame.functionName || (script ? '(anonymous)' : '(native)'), MAX_NAME),
    script,
    line: script ? callFrame.lineNumber + 1 : 0,
  };
}

function frameKey(frame) {
  return `${frame.name}\u0000${frame.script}\u0000${frame.line}`;
}

// The application's own code (its node_modules included), as opposed to Node's internals,
// native code and the profiler's synthetic nodes such as "(garbage collector)".
function isApplicationFrame(frame) {
  const script = frame.script;
  return script !== '' && !script.startsWith('node:') && !script.startsWith('internal/') && !script.startsWith(AGENT_DIR);
}

function shortLabel(frame) {
  if (!frame.script) return frame.name;
  const base = frame.script.slice(frame.script.lastIndexOf('/') + 1);
  return `${frame.name} ${base}:${frame.line}`;
}

module.exports = { describeFrame, frameKey, isApplicationFrame, shortLabel };
