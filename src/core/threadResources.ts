import { type ResourceLimits } from 'node:worker_threads';

/**
 * The V8 heap limits of the threads that read rollouts: the extension's scan worker and the reader
 * threads of a cold scan (src/core/fileReadPool.ts).
 *
 * Only the young generation is limited. Reading a rollout allocates mostly short-lived strings and
 * objects (decoded lines, parsed records), and V8 otherwise lets a thread's young generation grow to
 * 48 MiB (three 16 MiB semi-spaces), which stays resident. With 12 MiB (4 MiB semi-spaces; a
 * multiple of three, which V8 does not round up) the scan worker ends a 1 GB home's scan some
 * 25 MiB smaller, and the extension host's peak is about 10 MiB lower, at no scan time we could
 * measure (docs/performance.md).
 *
 * The old generation is not limited: it holds the ledger and the file records, which grow with the
 * home (46 MiB live after a 1 GB home, so several hundred MiB for a large one), and a thread that
 * reaches a limit is stopped with ERR_WORKER_OUT_OF_MEMORY, not slowed down. V8's default, a share
 * of the machine's memory, is what the extension host's own heap gets too.
 */
export const SCAN_THREAD_RESOURCE_LIMITS: Readonly<ResourceLimits> = Object.freeze({ maxYoungGenerationSizeMb: 12 });
