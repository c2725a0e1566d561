import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileAccount, newFileAccountState } from '../../src/core/fileAccount.js';
import { PREFIX_BYTES } from '../../src/core/lineReader.js';

const account = () => new FileAccount('/f.jsonl', newFileAccountState(), () => 0);
const prefixOf = (line: string): string => Buffer.from(line).subarray(0, PREFIX_BYTES).toString('latin1');

describe('recognising content lines from their bytes', () => {
  it('skips the content lines Codex writes, and nothing the classifier would read', () => {
    const a = account();
    const cases: [string, boolean][] = [
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"response_item","payload":{"type":"message"}}', true],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":12,"type":"response_item","payload":{}}', true],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"world_state","payload":{}}', true],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"hi"}}', true],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"event_msg","payload":{"type":"token_count","info":null}}', false],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"event_msg","payload":{"type":"thread_settings_applied"}}', false],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"session_meta","payload":{"id":"x"}}', false],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"token_usage_record","payload":{}}', false],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","type":"compacted","payload":{}}', false],
      ['{ "timestamp": "2026-11-20T10:00:00.000Z", "type": "response_item", "payload": {} }', false],
      ['{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":,"type":"response_item"}', false],
      [`{"timestamp":"${'9'.repeat(300)}","type":"response_item"}`, false],
      ['{"id":"legacy-header","timestamp":"2025-05-01T00:00:00Z"}', false],
    ];
    for (const [line, skipped] of cases) {
      const bytes = Buffer.from(`xx${line}\n`);
      expect(a.quickSkip(bytes, 2, bytes.length - 1), line).toBe(skipped);
      if (skipped) expect(a.classify(prefixOf(line)), line).toBe('skip');
    }
  });

  it('never says skip where the classifier would not, on lines made of envelope pieces', () => {
    const piece = fc.constantFrom('{"timestamp":"', '2026-11-20T10:00:00Z', '"', ',"ordinal":', '7', ',"type":"', 'response_item', 'world_state', 'event_msg', '","payload":{"type":"', 'token_count', 'agent_message', 'Agent', ' ', '\\\\', '}', '\r', 'é');
    fc.assert(fc.property(fc.array(piece, { maxLength: 14 }), fc.string({ maxLength: 300 }), (pieces, tail) => {
      const line = pieces.join('') + tail;
      const bytes = Buffer.from(line);
      const a = account();
      return !a.quickSkip(bytes, 0, bytes.length) || a.classify(prefixOf(line)) === 'skip';
    }), { numRuns: 3000 });
  });

  it('leaves every line of a file without the envelope (Codex 0.8–0.20) to the classifier', () => {
    const state = newFileAccountState();
    const a = new FileAccount('/legacy.jsonl', state, () => 1);
    a.handle({ lineNumber: 1, offset: 0, disposition: 'parse', prefix: '', bytes: Buffer.from('{"id":"legacy","timestamp":"2025-05-01T00:00:00Z","instructions":"x"}') });
    const line = Buffer.from('{"timestamp":"2026-11-20T10:00:00.000Z","type":"response_item","payload":{}}');
    expect(a.quickSkip(line, 0, line.length)).toBe(false);
  });
});
