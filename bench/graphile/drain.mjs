// graphile-worker draining no-op jobs, as bench/run.sh's versus phase runs it beside Caravan: the
// configuration issue 36 measured (batched completions, a local queue of 500), concurrency from
// CONCURRENCY. Prints "ready" once it runs and, once it has run JOBS jobs, writes "FIRST LAST" to the
// file DRAINED_FILE: the epoch milliseconds at which its first job started and its last one completed (its completion queued
// for the next batch, as graphile-worker's job:complete event says it), so that the bench reads the
// drain's time from the worker instead of counting the table while it is measured. Stops on SIGTERM.
import { writeFileSync } from "node:fs";
import { run } from "graphile-worker";

const expected = Number(process.env.JOBS || 0);
let first = 0;
let done = 0;
const runner = await run({
  connectionString: process.env.DATABASE_URL,
  concurrency: Number(process.env.CONCURRENCY || 50),
  pollInterval: 1000,
  noHandleSignals: false,
  preset: {
    worker: {
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
  },
  taskList: { noop: async () => {} },
});
runner.events.on("job:start", () => {
  if (first === 0) first = Date.now();
});
runner.events.on("job:complete", () => {
  done += 1;
  if (done === expected) writeFileSync(process.env.DRAINED_FILE, `${first} ${Date.now()}\n`);
});
console.log("ready");
await runner.promise;
