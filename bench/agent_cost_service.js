'use strict';

// The service bench/agent_cost.py measures: `idle` answers nothing but runs a timer, as a
// quiet service does; `loaded` keeps its event loop about half busy in 4 ms slices of work.
// GET /lag on --port answers the event-loop delay since the last call (ms) and resets it.
const http = require('node:http');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const mode = process.argv[2];
const port = Number(process.argv[3]);
const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

function work(milliseconds) {
  const until = Date.now() + milliseconds;
  let total = 0;
  while (Date.now() < until) total += Math.sqrt(total + 1);
  return total;
}

if (mode === 'loaded') setInterval(() => work(4), 8);
else setInterval(() => {}, 1000);

http
  .createServer((req, res) => {
    const ms = (ns) => Number((ns / 1e6).toFixed(2));
    const body = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
    histogram.reset();
    res.end(JSON.stringify(body));
  })
  .listen(port, '127.0.0.1', () => console.log(JSON.stringify({ ready: true })));
