// JSON-lines driver for ai-lib-ts (the AI-Lib TypeScript runtime), run by the conformance
// suite's out-of-process adapter (conformance/runtimes/process_runtime.py).
//
//   node ai_lib_ts_driver.mjs /path/to/ai-lib-ts/dist/index.js
//
// One JSON object per line on stdin, one answer per line on stdout (the protocol is
// documented in process_runtime.py). The runtime is used through its public API only:
// ProtocolLoader + HttpTransport + AiClient, chat(), execute(), executeStream().
//
// Network: every request goes to the suite's loopback replay server. The base URL is
// overridden with `<proxy>/<scheme>/<host><base path>` so the server knows the URL the runtime
// would have called; any fetch to a non-loopback host is refused here (ai-lib-ts would
// otherwise fall back to GitHub for manifests it does not find locally).
// Back-off: timers shorter than the request timeout fire at once and are reported as waits,
// so retries are observable without sleeping.

import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const lib = await import(pathToFileURL(process.argv[2]).href);
const { AiClient, HttpTransport, ProtocolLoader, AiLibError } = lib;

const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input.url ?? String(input));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`network blocked by the conformance driver: ${url.origin}`);
  }
  return realFetch(input, init);
};

let waits = [];
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = (fn, ms, ...args) => {
  if (typeof ms === 'number' && ms > 0 && ms < 30000) {
    waits.push(ms / 1000);
    return realSetTimeout(fn, 0, ...args);
  }
  return realSetTimeout(fn, ms, ...args);
};

const PARAMETERS = { temperature: 'temperature', max_tokens: 'maxTokens', top_p: 'topP', stop: 'stopSequences' };

function usageOf(u) {
  if (!u || typeof u !== 'object') return null;
  const pick = (...names) => {
    for (const n of names) if (typeof u[n] === 'number') return u[n];
    return null;
  };
  return {
    prompt_tokens: pick('prompt_tokens', 'promptTokens'),
    completion_tokens: pick('completion_tokens', 'completionTokens'),
    total_tokens: pick('total_tokens', 'totalTokens'),
  };
}

function errorOf(e, doing) {
  if (AiLibError && e instanceof AiLibError) {
    return {
      type: 'AiLibError',
      code: e.code ?? null,
      status_code: e.httpStatus ?? null,
      retryable: e.retryable ?? null,
      fallbackable: e.fallbackable ?? null,
      message: String(e.message ?? ''),
    };
  }
  const where = (e?.stack ?? '').split('\n').find((l) => l.includes('ai-lib-ts')) ?? '';
  return {
    type: e?.name ?? typeof e,
    code: null,
    status_code: null,
    retryable: null,
    fallbackable: null,
    message: `ai-lib-ts raised ${e?.name ?? 'error'}(${JSON.stringify(String(e?.message ?? e))}) while ${doing}${where ? ` (${where.trim()})` : ''}`,
  };
}

async function client(req) {
  if (req.api_key) {
    process.env[`${req.provider.toUpperCase().replace(/-/g, '_')}_API_KEY`] = req.api_key;
    for (const name of req.key_env ?? []) process.env[name] = req.api_key;
  }
  const loader = new ProtocolLoader({ protocolPath: req.protocol_dir });
  const manifest = await loader.load(`${req.provider}/${req.model}`);
  for (const name of [manifest.auth?.token_env, manifest.endpoint?.auth?.token_env]) {
    if (name && req.api_key) process.env[name] = req.api_key;
  }
  const base = new URL(manifest.base_url ?? '');
  const override = `${req.proxy}/${base.protocol.replace(':', '')}/${base.host}${base.pathname.replace(/\/$/, '')}`;
  const transport = new HttpTransport(manifest, {
    baseUrlOverride: override,
    resilience: { retryConfig: { ...retryOf(manifest), maxRetries: req.max_retries ?? 0 } },
  });
  return new AiClient(manifest, transport, manifest.model_id);
}

function retryOf(manifest) {
  const p = manifest.retry_policy ?? {};
  const out = {};
  if (p.min_delay_ms !== undefined) out.minDelayMs = p.min_delay_ms;
  if (p.max_delay_ms !== undefined) out.maxDelayMs = p.max_delay_ms;
  if (p.retry_on_http_status) out.retryOnStatus = p.retry_on_http_status;
  return out;
}

async function run(req) {
  const outcome = { events: [] };
  let doing = 'creating the client';
  try {
    const c = await client(req);
    const messages = req.mode === 'guide_example'
      ? [{ role: 'user', content: 'Which provider am I talking to?' }]
      : req.messages.map(([role, content]) => ({ role, content }));
    doing = 'building the request';
    const chat = c.chat(messages);
    if (req.mode !== 'guide_example') {
      for (const [name, value] of Object.entries(req.parameters ?? {})) {
        const method = PARAMETERS[name];
        if (!method) throw new Error(`no builder method for parameter ${name}`);
        chat[method](value);
      }
    }
    if (req.mode === 'stream') {
      doing = 'streaming';
      const stream = chat.stream().executeStream();
      let step = await stream.next();
      while (!step.done) {
        const ev = step.value;
        if (ev.event_type === 'PartialContentDelta') outcome.events.push(['content', ev.content]);
        else if (ev.event_type === 'ThinkingDelta') outcome.events.push(['reasoning', ev.thinking ?? ev.content]);
        else if (ev.event_type === 'Metadata') {
          if (ev.usage) outcome.events.push(['usage', usageOf(ev.usage)]);
          if (ev.finish_reason) outcome.events.push(['finish', [ev.finish_reason, ev.finish_reason]]);
        } else if (ev.event_type === 'StreamEnd' || ev.event_type === 'FinalCandidate') {
          if (ev.finish_reason) outcome.events.push(['finish', [ev.finish_reason, ev.finish_reason]]);
        } else if (ev.event_type === 'StreamError') {
          outcome.error = { type: 'StreamError event', code: null, status_code: null, retryable: null, fallbackable: null, message: JSON.stringify(ev.error) };
          break;
        }
        step = await stream.next();
      }
      if (step.done && step.value) outcome.stats = { latency_ms: step.value.latencyMs ?? null, time_to_first_token_ms: null };
      outcome.content = outcome.events.filter(([k]) => k === 'content').map(([, v]) => v).join('');
      return outcome;
    }
    doing = 'running the chat call';
    const response = await chat.execute();
    outcome.content = response.content ?? null;
    outcome.finish_reason = response.finishReason ?? null;
    outcome.raw_finish_reason = response.finishReason ?? null;
    outcome.usage = usageOf(response.usage);
    return outcome;
  } catch (e) {
    outcome.error = errorOf(e, doing);
    outcome.content = outcome.events.filter(([k]) => k === 'content').map(([, v]) => v).join('') || null;
    return outcome;
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: null, error: `not JSON: ${e.message}` }) + '\n');
    continue;
  }
  if (req.op === 'hello') {
    process.stdout.write(JSON.stringify({ id: req.id, name: 'ai-lib-ts', version: lib.VERSION ?? req.version ?? null }) + '\n');
    continue;
  }
  waits = [];
  const outcome = await run(req);
  process.stdout.write(JSON.stringify({ id: req.id, outcome, waits }) + '\n');
}
