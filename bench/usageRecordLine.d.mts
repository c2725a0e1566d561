/** Types of bench/usageRecordLine.mjs (see there). */
export function usageRecordLine(responseId: string): string;
