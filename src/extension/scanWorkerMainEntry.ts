/**
 * The entry of dist/scanWorkerMain.js: the scan worker the extension starts (scanWorkerEntry.ts
 * loads it there and calls startScanWorker). The reader threads that scan worker starts for a cold
 * scan of many files run dist/scanReader.js (readerEntry.ts).
 */

/** Starts the scan worker (scanWorker.ts, loaded only when this is called). */
export async function startScanWorker(meterCacheWasCurrent: boolean): Promise<void> {
  const worker = await import('./scanWorker.js');
  worker.begin(meterCacheWasCurrent);
}
