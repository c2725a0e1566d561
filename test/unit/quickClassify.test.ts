import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileAccount, newFileAccountState } from '../../src/core/fileAccount.js';
import { PREFIX_BYTES } from '../../src/core/lineReader.js';

const account = () => new FileAccount('/f.jsonl', newFileAccountState(), () => 0);
const prefixOf = (line: string): string => Buffer.from(line).subarray(0, PREFIX_BYTES).toString('latin1');

describe('classifying lines from their bytes', () => {
  it('skips the content lines Codex writes and parses the usage lines, as the classifier would', () => {
    const a = account();
    const cases: [string, 'skip' | 'parse' | undefined][] = [
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"response_item","payload":{"type":"message"}}', 'skip'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":12,"type":"response_item","payload":{}}', 'skip'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"world_state","payload":{}}', 'skip'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"hi"}}', 'skip'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"event_msg","payload":{"type":"token_count","info":null}}', 'parse'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":3,"type":"event_msg","payload":{"type":"thread_settings_applied"}}', 'parse'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"session_meta","payload":{"id":"x"}}', 'parse'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"turn_context","payload":{"model":"m"}}', 'parse'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":9,"type":"token_usage_record","payload":{}}', 'parse'],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"compacted","payload":{}}', undefined],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"turn_contexts","payload":{}}', undefined],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"session_metadata","payload":{}}', undefined],
      ['{ "timestamp": "2026-11-20T10:00:00.000Z", "type": "response_item", "payload": {} }', undefined],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":,"type":"response_item"}', undefined],
      [`{"timestamp":"${'9'.repeat(300)}","type":"response_item"}`, undefined],
      [`{"timestamp":"${'9'.repeat(220)}","type":"token_usage_record"}`, undefined],
      ['{"id":"legacy-header","timestamp":"2025-05-01T00:00:00Z"}', undefined],
    ];
    for (const [line, disposition] of cases) {
      const bytes = Buffer.from(`xx${line}\n`);
      expect(a.quickClassify(bytes, 2, bytes.length - 1), line).toBe(disposition);
      if (disposition) expect(a.classify(prefixOf(line)), line).toBe(disposition);
    }
  });

  it('never answers otherwise than the classifier, on lines made of envelope pieces', () => {
    const piece = fc.constantFrom('{"timestamp":"', '2026-11-20T10:00:00Z', '"', ',"ordinal":', '7', ',"type":"', 'response_item', 'world_state', 'event_msg', 'session_meta', 'turn_context', 'token_usage_record', '","payload":{"type":"', 'token_count', 'thread_settings_applied', 'agent_message', 'Agent', 'data', ' ', '\\\\', '}', '\r', 'é', '"x'.repeat(40));
    fc.assert(fc.property(fc.array(piece, { maxLength: 14 }), fc.string({ maxLength: 300 }), (pieces, tail) => {
      const line = pieces.join('') + tail;
      const bytes = Buffer.from(line);
      const a = account();
      const quick = a.quickClassify(bytes, 0, bytes.length);
      return quick === undefined || a.classify(prefixOf(line)) === quick;
    }), { numRuns: 4000 });
  });

  it('leaves every line of a file without the envelope (Codex 0.8–0.20) to the classifier', () => {
    const state = newFileAccountState();
    const a = new FileAccount('/legacy.jsonl', state, () => 1);
    a.handle({ lineNumber: 1, offset: 0, disposition: 'parse', prefix: '', bytes: Buffer.from('{"id":"legacy","timestamp":"2025-05-01T00:00:00Z","instructions":"x"}') });
    const line = Buffer.from('{"timestamp":"2026-11-20T10:00:00.000Z","type":"response_item","payload":{}}');
    expect(a.quickClassify(line, 0, line.length)).toBeUndefined();
  });
});
