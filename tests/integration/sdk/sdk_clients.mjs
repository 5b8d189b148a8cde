// Drives the official OpenAI and Anthropic SDKs through edgewardd (in front of the mock
// upstream): a normal call, a streamed call and a blocked call per SDK. The blocked call must
// surface as the SDK's own permission error carrying the reason code.
//
// It also cuts a streamed answer short at the mock (a TCP reset after the first events): each SDK
// must raise an error naming upstream.reset, not end the stream as if the answer were whole.
//
// Usage: node sdk_clients.mjs <node_modules dir> <gateway base URL, e.g. http://127.0.0.1:9087>
//                             <mock upstream base URL>
// Exit 0 when every check passes; 1 with one line per failure otherwise.

import { createRequire } from 'node:module';
import path from 'node:path';

const [modulesDir, base, mockBase] = process.argv.slice(2);
const require = createRequire(path.join(modulesDir, 'noop.js'));
const OpenAIModule = require('openai');
const AnthropicModule = require('@anthropic-ai/sdk');
const OpenAI = OpenAIModule.OpenAI ?? OpenAIModule.default;
const Anthropic = AnthropicModule.Anthropic ?? AnthropicModule.default;

// The default pack blocks AWS access keys.
const SECRET = 'my key is AKIA4XCIVWF6E2B7AYYA';
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

// The mock answers the next request with `events` as an SSE stream, then resets the connection
// without ending the body.
const scriptReset = async (events) => {
  const r = await fetch(`${mockBase}/__mock/script?content_type=text%2Fevent-stream&chunk_bytes=65536&end=reset`,
    { method: 'POST', body: events });
  if (!r.ok) throw new Error(`mock script: ${r.status}`);
};

// The text streamed before the cut arrives whole, the gateway's held-back tail included.
const PARTIAL = 'The first sentence of the answer arrives whole. And then';
const arrivedBeforeCut = (got) => got === PARTIAL;

const openai = new OpenAI({ apiKey: 'sk-test-sdk', baseURL: `${base}/v1`, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: base, maxRetries: 0 });

// OpenAI: normal, streamed, blocked.
{
  const r = await openai.chat.completions.create({
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }],
  });
  check(typeof r.choices?.[0]?.message?.content === 'string' && r.choices[0].message.content.length > 0,
    'openai: normal call returns the model text');

  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
  check(text.includes('tok0') && text.includes('tok7'), `openai: streamed call yields every delta (${JSON.stringify(text)})`);

  try {
    await openai.chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: SECRET }],
    });
    check(false, 'openai: blocked call raises');
  } catch (e) {
    check(e instanceof OpenAIModule.PermissionDeniedError, `openai: blocked call raises PermissionDeniedError (${e?.constructor?.name})`);
    check(e.status === 403, 'openai: status 403');
    check(e.code === 'DLP.SECRET.AWS_ACCESS_KEY', `openai: error code is the reason code (${e.code})`);
    check(!String(e.message).includes('AKIA'), 'openai: the error does not echo the secret');
  }

  await scriptReset('data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",' +
    `"choices":[{"index":0,"delta":{"content":"${PARTIAL}"},"finish_reason":null}]}\n\n`);
  let got = '';
  try {
    const cut = await openai.chat.completions.create({
      model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }],
    });
    for await (const chunk of cut) got += chunk.choices?.[0]?.delta?.content ?? '';
    check(false, `openai: a stream cut short by the upstream raises (got ${JSON.stringify(got)})`);
  } catch (e) {
    check(e instanceof OpenAIModule.APIError && e.code === 'upstream.reset',
      `openai: a stream cut short raises an APIError with code upstream.reset (${e?.constructor?.name}, ${e?.code})`);
    check(arrivedBeforeCut(got), `openai: the text before the cut arrived (${JSON.stringify(got)})`);
  }
}

// Anthropic: normal, streamed, blocked.
{
  const r = await anthropic.messages.create({
    model: 'claude-x', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }],
  });
  check(r.content?.[0]?.type === 'text' && r.content[0].text.length > 0,
    'anthropic: normal call returns the model text');

  const stream = await anthropic.messages.create({
    model: 'claude-x', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hello' }],
  });
  let text = '';
  for await (const ev of stream) {
    if (ev.type === 'content_block_delta' && ev.delta?.type === 'text_delta') text += ev.delta.text;
  }
  check(text.length > 0, `anthropic: streamed call yields the text (${JSON.stringify(text)})`);

  try {
    await anthropic.messages.create({
      model: 'claude-x', max_tokens: 64, messages: [{ role: 'user', content: SECRET }],
    });
    check(false, 'anthropic: blocked call raises');
  } catch (e) {
    check(e instanceof AnthropicModule.PermissionDeniedError, `anthropic: blocked call raises PermissionDeniedError (${e?.constructor?.name})`);
    check(e.status === 403, 'anthropic: status 403');
    check(String(e.message).includes('DLP.SECRET.AWS_ACCESS_KEY'), 'anthropic: the message carries the reason code');
    check(!String(e.message).includes('AKIA4'), 'anthropic: the error does not echo the secret');
  }

  await scriptReset('event: message_start\ndata: {"type":"message_start","message":{"id":"m1",' +
    '"type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,' +
    '"usage":{"input_tokens":1,"output_tokens":0}}}\n\n' +
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,' +
    '"content_block":{"type":"text","text":""}}\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,' +
    `"delta":{"type":"text_delta","text":"${PARTIAL}"}}\n\n`);
  let got = '';
  try {
    const cut = await anthropic.messages.create({
      model: 'claude-x', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hello' }],
    });
    for await (const ev of cut) {
      if (ev.type === 'content_block_delta' && ev.delta?.type === 'text_delta') got += ev.delta.text;
    }
    check(false, `anthropic: a stream cut short by the upstream raises (got ${JSON.stringify(got)})`);
  } catch (e) {
    check(e instanceof AnthropicModule.APIError && String(e.message).includes('upstream.reset'),
      `anthropic: a stream cut short raises an APIError naming upstream.reset (${e?.constructor?.name}: ${e?.message})`);
    check(arrivedBeforeCut(got), `anthropic: the text before the cut arrived (${JSON.stringify(got)})`);
  }
}

if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all SDK checks passed');
