import { setFlagsFromString } from 'node:v8';

/**
 * Limits how much TurboFan inlines into one optimized function, for the CLI's full run (set before
 * its code and its reader threads' code are optimized; V8 reads the flag at each compilation, and
 * it holds for the whole process).
 *
 * A cold scan's hot code is optimized once in each thread (each has its own isolate), and on two
 * cores that compiling takes CPU from the reading: `--trace-opt` in one thread counts ~300
 * TurboFan compilations of ~850 ms in all on V8's threads, the line decoders' among the largest
 * (tokenUsage 35 ms, decodeUsageLine 30 ms), because everything they call is inlined into them.
 * With a cumulative budget of 100 bytes of bytecode instead of V8's 920, the compile time in one
 * thread halves (855 → 375 ms), and a cold scan of the 0.25 GB bench home with a reader thread runs
 * 5.3 % fewer instructions (callgrind, twice each: 6.71–6.73 against 6.36 G): the code optimized
 * with less inlined runs about as fast. Its effect on wall time is below what this machine's noise
 * lets 31 alternated pairs of cold scans of the 1 GB home resolve (16 to 21 of 31 in its favour).
 * Round 6 tried 300 and saw no gain in 7–9 runs, not paired. A run the report cache answers never sets it.
 */
export function limitInlining(): void {
  setFlagsFromString('--max-inlined-bytecode-size-cumulative=100');
}
