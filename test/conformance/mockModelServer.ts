import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

/** One usage the server handed out: the ground truth a ledger must reproduce. */
export interface HandedOutUsage {
  request: number;
  threadId: string | null;
  /** 'turn', 'compaction', 'remote_compaction' (the /responses/compact endpoint), ... */
  kind: string;
  model: string | null;
  usage: { input_tokens: number; input_tokens_details: { cached_tokens: number }; output_tokens: number; output_tokens_details: { reasoning_tokens: number }; total_tokens: number };
}

/**
 * A stand-in for the OpenAI Responses API, good enough for the real Codex CLI to run offline.
 * POST …/responses answers with an SSE stream ending in `response.completed` with a usage block;
 * POST …/responses/compact answers a remote compaction. Every usage handed out is recorded.
 * Markers in the last user message steer the reply:
 *   @tool       call exec_command once, then answer
 *   @spawn      spawn one sub-agent and wait for it (@forkspawn: with fork_context)
 *   @overflow   fail with context_length_exceeded
 */
export class MockModelServer {
  readonly handedOut: HandedOutUsage[] = [];
  private server: Server | undefined;
  private count = 0;

  constructor(private readonly options: { seed: number; truthFile?: string }) {}

  async start(): Promise<number> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Deterministic, varied usage: input 2,000–11,000, a cached part on two requests of three, reasoning within output. */
  private usageFor(i: number): HandedOutUsage['usage'] {
    const r = (k: number): number => {
      let x = (this.options.seed * 2246822519 + i * 3266489917 + k * 668265263) >>> 0;
      x ^= x >>> 15; x = Math.imul(x, 2246822507) >>> 0; x ^= x >>> 13; x = Math.imul(x, 3266489909) >>> 0; x ^= x >>> 16;
      return x >>> 0;
    };
    const input = 2000 + (r(1) % 9000);
    const cached = i % 3 === 1 ? 0 : Math.floor((input * (r(2) % 85)) / 100);
    const output = 15 + (r(3) % 1000);
    const reasoning = Math.floor((output * (r(4) % 70)) / 100);
    return { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output };
  }

  private record(entry: HandedOutUsage): void {
    this.handedOut.push(entry);
    if (this.options.truthFile) appendFileSync(this.options.truthFile, `${JSON.stringify(entry)}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        /* keep empty */
      }
      const url = req.url ?? '';
      if (req.method === 'POST' && /\/responses\/compact$/.test(url)) return this.compact(body, res);
      if (req.method === 'POST' && /\/responses$/.test(url)) return this.respond(body, res);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found"}}');
    });
  }

  private threadIdOf(body: Record<string, unknown>): string | null {
    const meta = (body.client_metadata ?? {}) as Record<string, unknown>;
    const fromMeta = meta.thread_id ?? meta.session_id;
    if (typeof fromMeta === 'string') return fromMeta;
    // Older clients send no metadata; their prompt cache key is the thread id. (The session_id
    // header is not: a sub-agent sends its root session's id there.)
    return typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : null;
  }

  private requestKind(body: Record<string, unknown>): string | null {
    const meta = (body.client_metadata ?? {}) as Record<string, unknown>;
    const raw = meta['x-codex-turn-metadata'];
    if (typeof raw !== 'string') return null;
    try {
      const parsed = JSON.parse(raw) as { request_kind?: unknown };
      return typeof parsed.request_kind === 'string' ? parsed.request_kind : null;
    } catch {
      return null;
    }
  }

  private compact(body: Record<string, unknown>, res: ServerResponse): void {
    const i = this.count++;
    const usage = this.usageFor(i);
    this.record({ request: i, threadId: this.threadIdOf(body), kind: 'remote_compaction', model: typeof body.model === 'string' ? body.model : null, usage });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ output: [{ type: 'compaction', encrypted_content: Buffer.from(`summary ${i}`).toString('base64') }], usage }));
  }

  private respond(body: Record<string, unknown>, res: ServerResponse): void {
    const i = this.count++;
    const input = Array.isArray(body.input) ? (body.input as Record<string, unknown>[]) : [];
    const last = input[input.length - 1] ?? {};
    const userText = last.type === 'message' ? lastUserText(input) : '';
    const event = (o: Record<string, unknown>): string => `event: ${String(o.type)}\ndata: ${JSON.stringify(o)}\n\n`;
    if (/@overflow/.test(userText)) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event({ type: 'response.created', response: { id: `resp_${i}` } }));
      res.end(event({ type: 'response.failed', response: { id: `resp_${i}`, error: { code: 'context_length_exceeded', message: 'Your input exceeds the context window of this model.' } } }));
      return;
    }
    const usage = this.usageFor(i);
    const kind = last.type === 'compaction_trigger' ? 'compaction' : (this.requestKind(body) ?? 'turn');
    this.record({ request: i, threadId: this.threadIdOf(body), kind, model: typeof body.model === 'string' ? body.model : null, usage });
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'x-codex-primary-used-percent': String(5 + (i % 60)),
      'x-codex-primary-window-minutes': '300',
      'x-codex-primary-reset-after-seconds': '7200',
      'x-codex-secondary-used-percent': String(2 + (i % 30)),
      'x-codex-secondary-window-minutes': '10080',
      'x-codex-secondary-reset-after-seconds': '172800',
    });
    res.write(event({ type: 'response.created', response: { id: `resp_${i}` } }));
    const tools = Array.isArray(body.tools) ? (body.tools as Record<string, unknown>[]) : [];
    const agentNamespace = tools.some((t) => t.type === 'namespace' && t.name === 'multi_agent_v1') ? { namespace: 'multi_agent_v1' } : {};
    const spawnedAgent = spawnedAgentId(last);
    let item: Record<string, unknown>;
    if (last.type === 'compaction_trigger') {
      item = { type: 'compaction', id: `cmp_${i}`, encrypted_content: Buffer.from(`summary ${i}`).toString('base64') };
    } else if (/@(fork)?spawn/.test(userText)) {
      const args = { message: 'sub-agent task: list the files', ...(/@forkspawn/.test(userText) ? { fork_context: true } : {}) };
      item = { type: 'function_call', call_id: `spawn_${i}`, name: 'spawn_agent', ...agentNamespace, arguments: JSON.stringify(args) };
    } else if (spawnedAgent) {
      item = { type: 'function_call', call_id: `wait_${i}`, name: 'wait_agent', ...agentNamespace, arguments: JSON.stringify({ targets: [spawnedAgent], timeout_ms: 30000 }) };
    } else if (/@tool/.test(userText)) {
      item = { type: 'function_call', call_id: `call_${i}`, name: 'exec_command', arguments: JSON.stringify({ cmd: 'echo conformance' }) };
    } else {
      item = { type: 'message', role: 'assistant', id: `msg_${i}`, content: [{ type: 'output_text', text: `Answer ${i}.` }] };
    }
    res.write(event({ type: 'response.output_item.done', item }));
    res.end(event({ type: 'response.completed', response: { id: `resp_${i}`, usage } }));
  }
}

function lastUserText(input: Record<string, unknown>[]): string {
  for (let j = input.length - 1; j >= 0; j -= 1) {
    const item = input[j]!;
    if (item.type === 'message' && item.role === 'user') {
      const content = Array.isArray(item.content) ? (item.content as { text?: string }[]) : [];
      return content.map((c) => c.text ?? '').join(' ');
    }
  }
  return '';
}

/** After a spawn_agent call, the id of the agent it started (so the next reply can wait for it). */
function spawnedAgentId(last: Record<string, unknown>): string | null {
  if (last.type !== 'function_call_output' || !String(last.call_id ?? '').startsWith('spawn_')) return null;
  const output = typeof last.output === 'string' ? last.output : JSON.stringify(last.output);
  return /"?(?:agent_id|id)"?\s*[:=]\s*"([^"]+)"/.exec(output)?.[1] ?? null;
}
