// graphile-worker draining no-op jobs, as bench/run.sh's versus phase runs it beside Caravan: the
// configuration issue 36 measured (batched completions, a local queue of 500), concurrency from
// CONCURRENCY. Prints "ready" once it runs; stops on SIGTERM.
import { run } from "graphile-worker";

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
console.log("ready");
await runner.promise;
