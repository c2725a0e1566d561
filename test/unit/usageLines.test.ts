import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelopeSchema } from '../../src/core/rolloutSchemas.js';
import { KeyTable, OTHER_KEY } from '../../src/core/jsonCursor.js';
import { type DecodedEnvelope, decodeUsageLine, usageLineFromEnvelope } from '../../src/core/usageLines.js';
import {
  envelope, eventMsg, overflowTokenCount, rateLimitsResetsAt, rateLimitsResetsIn, rawUsage, threadSettingsApplied, tokenCount, tokenCountRaw, turnContext, usageRecord,
  usageRecordWithModel, withOrdinals,
} from './helpers/rolloutBuilder.js';

/** The general path: JSON.parse, the envelope schema, then the payload schemas. */
function reference(text: string): DecodedEnvelope | 'unusable' {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'unusable';
  }
  const env = envelopeSchema.safeParse(json);
  if (!env.success) return 'unusable';
  const line = usageLineFromEnvelope(env.data.type, env.data.payload);
  if (!line || 'problem' in line) return 'unusable';
  return { timestamp: env.data.timestamp ?? undefined, line };
}

function decode(text: string): DecodedEnvelope | undefined {
  return decodeUsageLine(Buffer.from(text, 'utf8'));
}

/** Where the fast decoder answers, it answers what the general path does. */
function expectAgreement(text: string): void {
  const fast = decode(text);
  if (fast === undefined) return;
  expect(fast).toStrictEqual(reference(text));
}

const codexLines = [
  turnContext('gpt-5.1-codex'),
  turnContext('gpt-5.1-codex', { collaboration_mode: { mode: 'default', settings: { model: 'gpt-5.2', effort: 'high' } }, sandbox_policy: { mode: 'workspace-write', network_access: false } }),
  envelope('turn_context', { cwd: '/w', collaboration_mode: { settings: { model: 'from-mode' } } }),
  tokenCount(null),
  tokenCount([5000, 1000, 300, 100], [5000, 1000, 300, 100]),
  tokenCount([5000, 1000, 300, 100], [5000, 1000, 300, 100], { rateLimits: rateLimitsResetsIn(12.5, 3600, 40, 86_400) }),
  tokenCount([5000, 1000, 300, 100], null, { rateLimits: rateLimitsResetsAt(99.9, 1_795_410_342, 3, null) }),
  tokenCountRaw(rawUsage([10, 0, 5, 0], { cacheWrite: 3 }), null, { primary: { used_percent: 1 }, credits: { has_credits: true, balance: '12.5' }, limit_id: 'codex', limit_name: null }),
  overflowTokenCount(272_000),
  usageRecord('thread-1', 'resp_1', [51219, 26631, 2551, 5], 120),
  usageRecordWithModel('thread-1', 'resp_2', [1, 0, 1, 0], 'gpt-5.1-codex-mini'),
  threadSettingsApplied('thread-1'),
  eventMsg('agent_reasoning', { text: 'thinking…' }),
  ...withOrdinals([turnContext('gpt-5.1-codex'), usageRecord('t', 'r', [1, 1, 1, 1])]),
];

describe('decodeUsageLine', () => {
  it('decodes the usage, turn and event lines Codex writes, to what the schemas give', () => {
    for (const text of codexLines) {
      const fast = decode(text);
      expect(fast, text).toBeDefined();
      expect(fast).toStrictEqual(reference(text));
    }
  });

  it('gives the same figures for the same line written with other spacing, key order, escapes and extra fields', () => {
    const spaced = '{ "timestamp" : "2026-11-20T10:00:00Z" ,\t"type":"event_msg", "payload" : { "type" : "token_count" , "info" : { "last_token_usage" : null , "total_token_usage" : { "output_tokens" : 7 , "input_tokens" : 12 } } } }';
    expect(decode(spaced)).toStrictEqual(reference(spaced));
    expect(decode(spaced)?.line).toMatchObject({ kind: 'token_count', info: { total: { input_tokens: 12, output_tokens: 7 } } });
    const escaped = '{"timestamp":"2026-11-20T10:00:00Z","type":"turn_context","payload":{"mod\\u0065l":"gpt-\\u00e9\\n","cwd":"C:\\\\w \\ud83d\\ude00"}}';
    expect(decode(escaped)).toStrictEqual(reference(escaped));
    expect(decode(escaped)?.line).toMatchObject({ model: 'gpt-é\n', cwd: 'C:\\w 😀' });
    const numbers = '{"type":"token_usage_record","payload":{"thread_id":"t","usage":{"input_tokens":1e3,"output_tokens":12345678901234567890,"cached_input_tokens":0.5,"total_tokens":-0}}}';
    expect(decode(numbers)).toStrictEqual(reference(numbers));
    const escapedTypes = '{"type":"event\\u005fmsg","payload":{"type":"token\\u005fcount","info":null}}';
    expect(decode(escapedTypes)?.line).toMatchObject({ kind: 'token_count', info: null });
    expect(decode(escapedTypes)).toStrictEqual(reference(escapedTypes));
    const nearType = '{"type":"event_msg","payload":{"type":"token_coun","info":null}}';
    expect(decode(nearType)?.line).toStrictEqual({ kind: 'other_event' });
    expect(decode(nearType)).toStrictEqual(reference(nearType));
    for (const figure of ['0', '7', '10', '100.0', '1.5e2', '123456789012345', '1234567890123456', '9007199254740993']) {
      const line = `{"type":"token_usage_record","payload":{"thread_id":"t","turn_id":null,"usage":{"input_tokens":${figure}}}}`;
      expect(decode(line), line).toStrictEqual(reference(line));
    }
    const duplicate = '{"type":"token_usage_record","payload":{"thread_id":"a","usage":{"input_tokens":1,"input_tokens":2},"thread_id":"b"}}';
    expect(decode(duplicate)).toStrictEqual(reference(duplicate));
    expect(decode(duplicate)?.line).toMatchObject({ threadId: 'b', usage: { input_tokens: 2 } });
  });

  it('leaves lines it does not take to the general path, and takes nothing the general path rejects', () => {
    const declined = [
      '{"payload":{"type":"token_count","info":null},"type":"event_msg"}', // type after payload
      '{"type":"event_msg","payload":{"info":null,"type":"token_count"}}', // payload type not first
      '{"type":"event_msg","payload":{"type":"token_count","type":"agent_message"}}', // its type twice
      '{"type":"session_meta","payload":{"id":"x"}}', // not a kind it decodes
      '{"type":"token_usage_record","payload":{"thread_id":"t","usage":{"input_tokens":-1}}}', // negative count
      '{"type":"token_usage_record","payload":{"thread_id":"t","usage":{"input_tokens":2E631}}}', // beyond a double: Infinity
      '{"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{},"model_context_window":-1e999}}}',
      '{"type":"token_usage_record","payload":{"thread_id":"","usage":{}}}', // empty thread id
      '{"type":"token_usage_record","payload":{"thread_id":"t"}}', // no usage
      '{"type":"turn_context","payload":{"model":5}}', // model not a string
      '{"type":"event_msg","payload":{"type":"token_count","info":{"last_token_usage":null}}}', // no total
      '{"type":"turn_context","payload":{"model":"m"}} x', // trailing garbage
      '{"type":"turn_context","payload":{"model":"m"}', // cut
      '\ufeff{"type":"turn_context","payload":{"model":"m"}}', // byte order mark
      '{"type":"turn_context","payload":{"model":"a\tb"}}', // raw control character in a string
      '{"type":"turn_context","payload":{"model":"m","x":01}}', // leading zero
      '{"type":"turn_context","payload":{"model":"m","x":[1,]}}', // trailing comma
      '{"type":"turn_context","payload":{"model":"m","x":"\\x"}}', // bad escape
      '{"timestamp":5,"type":"turn_context","payload":{}}', // timestamp not a string
      '{"type":"turn_context","payload":{"turn_id":5}}', // turn id not a string
      '{"type":"token_usage_record","payload":{"thread_id":"t","turn_id":nul,"usage":{}}}', // a broken literal
      '{"type":"event_msgs","payload":{"type":"token_count","info":null}}', // a type one byte longer than one it reads
      `{"type":"turn_context","payload":{"x":${'['.repeat(100)}${']'.repeat(100)}}}`, // deeper than the cursor goes
    ];
    for (const text of declined) {
      expect(decode(text), text).toBeUndefined();
      expectAgreement(text);
    }
  });

  it('tolerates rate limits and collaboration modes of another shape as the schemas do (null), but not broken JSON inside them', () => {
    const odd = '{"type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"primary":{"used_percent":"high"}}}}';
    expect(decode(odd)?.line).toMatchObject({ kind: 'token_count', rateLimits: null });
    expect(decode(odd)).toStrictEqual(reference(odd));
    const mode = '{"type":"turn_context","payload":{"model":null,"collaboration_mode":{"settings":{"model":7}}}}';
    expect(decode(mode)).toStrictEqual(reference(mode));
    expect(decode('{"type":"event_msg","payload":{"type":"token_count","rate_limits":{"primary":{"used_percent":1,}}}}')).toBeUndefined();
    const infinite = '{"type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"primary":{"used_percent":1e400}}}}';
    expect(decode(infinite)?.line).toMatchObject({ rateLimits: null });
    expect(decode(infinite)).toStrictEqual(reference(infinite));
  });

  it('agrees with the general path on arbitrary variations of usage lines', () => {
    const count = fc.oneof(fc.nat(), fc.constant(null), fc.integer({ min: -5, max: -1 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant('7'));
    const usage = fc.dictionary(fc.constantFrom('input_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'output_tokens', 'reasoning_output_tokens', 'total_tokens', 'other'), count);
    const text = fc.oneof(fc.string(), fc.constant(null), fc.constant('é"\\\n😀'));
    const window = fc.oneof(fc.constant(null), fc.record({ used_percent: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant('x')), window_minutes: fc.oneof(fc.nat(), fc.constant(null)), resets_at: fc.nat() }, { requiredKeys: [] }));
    const payload = fc.oneof(
      fc.record({ type: fc.constant('token_count'), info: fc.oneof(fc.constant(null), fc.record({ total_token_usage: usage, last_token_usage: fc.oneof(usage, fc.constant(null)), model_context_window: fc.oneof(fc.nat(), fc.constant('big')) }, { requiredKeys: [] })), rate_limits: fc.oneof(fc.constant(null), fc.record({ primary: window, secondary: window, plan_type: text, limit_id: text }, { requiredKeys: [] }), fc.constant([1])) }, { requiredKeys: ['type'] }),
      fc.record({ thread_id: text, turn_id: text, response_id: text, model: text, usage }, { requiredKeys: [] }),
      fc.record({ model: text, cwd: text, turn_id: fc.oneof(text, fc.nat()), collaboration_mode: fc.oneof(fc.constant(null), fc.record({ settings: fc.oneof(fc.constant(null), fc.record({ model: fc.oneof(text, fc.nat()) })) })), extra: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }),
      fc.record({ type: fc.constantFrom('thread_settings_applied', 'agent_message', 'token_count'), text: text }, { requiredKeys: ['type'] }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const line = fc.record({
      timestamp: fc.oneof(fc.constant('2026-11-20T10:00:00.000Z'), fc.constant(null), fc.nat()),
      type: fc.constantFrom('turn_context', 'token_usage_record', 'event_msg', 'session_meta', 'response_item'),
      payload,
      ordinal: fc.nat(),
    }, { requiredKeys: ['type'] });
    /** Serialises with shuffled keys and random spacing, so the decoder meets every order. */
    const render = (value: unknown, rand: () => number, space: string): string => {
      if (Array.isArray(value)) return `[${value.map((v) => render(v, rand, space)).join(`,${space}`)}]`;
      if (value && typeof value === 'object') {
        const entries = Object.entries(value).sort(() => rand() - 0.5);
        return `{${space}${entries.map(([k, v]) => `${JSON.stringify(k)}${space}:${space}${render(v, rand, space)}`).join(`,${space}`)}${space}}`;
      }
      return JSON.stringify(value) ?? 'null';
    };
    fc.assert(fc.property(line, fc.integer(), fc.constantFrom('', ' ', '\t', ' \r '), (value, seed, space) => {
      let state = seed;
      const rand = (): number => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      expectAgreement(JSON.stringify(value));
      expectAgreement(render(value, rand, space));
    }), { numRuns: 3000 });
  });

  it('agrees with the general path on damaged lines (bytes flipped, cut, inserted)', () => {
    const mutation = fc.record({ line: fc.constantFrom(...codexLines), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('flip', 'cut', 'insert') });
    fc.assert(fc.property(mutation, ({ line, at, byte, kind }) => {
      const bytes = Buffer.from(line, 'utf8');
      const i = at % bytes.length;
      const damaged = kind === 'flip'
        ? Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i + 1)])
        : kind === 'cut' ? bytes.subarray(0, i) : Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
      const fast = decodeUsageLine(damaged);
      if (fast !== undefined) expect(fast).toStrictEqual(reference(damaged.toString('utf8')));
    }), { numRuns: 10_000 });
  });
});

describe('KeyTable', () => {
  it('finds each of its keys from their bytes and nothing else, however alike (length, first, middle and last bytes)', () => {
    const keys = ['type', 'tape', 'tyype', 'input_tokens', 'output_tokens', 'inputXtokens', 'a', 'é', 'ab', 'ba', ...Array.from({ length: 200 }, (_, i) => `k${i}`)];
    const table = new KeyTable(keys);
    const find = (text: string): string => {
      const bytes = Buffer.from(`"${text}"`, 'utf8');
      return table.find(bytes, 1, bytes.length - 1);
    };
    for (const key of keys) expect(find(key)).toBe(key);
    for (const other of ['typf', 'typ', 'types', 'input_tokenz', 'b', 'e', 'aa', 'k200', 'k1x', '']) expect(find(other), other).toBe(OTHER_KEY);
    expect(table.findDecoded('tape')).toBe('tape');
    expect(table.findDecoded('tap')).toBe(OTHER_KEY);
  });

  it('expects the key that followed the last one last time, and takes it only when the token is exactly that key', () => {
    const table = new KeyTable(['type', 'payload', 'timestamp']);
    const at = (text: string): { bytes: Buffer; end: number } => {
      const bytes = Buffer.from(text, 'utf8');
      return { bytes, end: bytes.length };
    };
    const find = (key: string): string => {
      const bytes = Buffer.from(`"${key}"`, 'utf8');
      return table.find(bytes, 1, bytes.length - 1);
    };
    const match = (text: string): number => {
      const { bytes, end } = at(text);
      return table.match(bytes, 0, end);
    };
    // Nothing is expected before the table has seen a key follow another.
    find('type');
    expect(match('"payload":')).toBe(-1);
    find('payload');
    find('type');
    // "payload" followed "type": it is expected now, and read in one pass.
    expect(match('"payload":{}')).toBe(9);
    expect(table.lastKey).toBe('payload');
    find('type');
    for (const other of ['"payloads":', '"payloa":', '"paylaod":', '"payload', '"payload\\":', '"payl\\u006fad":', '"timestamp":']) expect(match(other), other).toBe(-1);
    // A key not in the table breaks the chain: after "type" came another key, so none is expected.
    find('type');
    find('other');
    find('type');
    expect(match('"payload":')).toBe(-1);
    // A key read from its escaped spelling counts as met, as one found from its bytes does.
    expect(table.findDecoded('payload')).toBe('payload');
    find('type');
    expect(match('"payload":')).toBe(9);
  });

  it('refuses keys that JSON spells with escapes, which it could not match byte for byte', () => {
    for (const key of ['a"b', 'a\\b', 'tab\there']) expect(() => new KeyTable(['type', key]), key).toThrow(/escapes/);
  });
});
