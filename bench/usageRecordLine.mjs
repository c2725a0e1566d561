// One token_usage_record line (a new response of the thread "bench-append"), as the benchmarks append
// it to a rollout: bench/run.mjs before each CLI run after a change, bench/appendDriver.ts once.
export function usageRecordLine(responseId) {
  const usage = { input_tokens: 1234, cached_input_tokens: 0, output_tokens: 56, reasoning_output_tokens: 0, total_tokens: 1290 };
  return `${JSON.stringify({ timestamp: new Date().toISOString(), type: 'token_usage_record', payload: { thread_id: 'bench-append', response_id: responseId, usage } })}\n`;
}
