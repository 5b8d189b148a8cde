// Drives the official OpenAI and Anthropic SDKs through edgewardd (in front of the mock
// upstream): a normal call, a streamed call and a blocked call per SDK. The blocked call must
// surface as the SDK's own permission error carrying the reason code.
//
// Usage: node sdk_clients.mjs <node_modules dir> <gateway base URL, e.g. http://127.0.0.1:9087>
// Exit 0 when every check passes; 1 with one line per failure otherwise.

import { createRequire } from 'node:module';
import path from 'node:path';

const [modulesDir, base] = process.argv.slice(2);
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
}

if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all SDK checks passed');
