// Azure-in-a-box building blocks without servers: router, store, faults, paging, tag filters, JWT, *.localhost preload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { Router, armError, fail, Faults, type Req } from '../emulator/http';
import { Store } from '../emulator/store';
import { page, matchesKv, compareVersions } from '../emulator/armkit';
import { signJwt, decodeJwt, verifySignature } from '../emulator/jwt';
import type { EmulatorContext } from '../emulator/context';

const req = (method: string, p: string): Req => {
  const url = new URL(`https://127.0.0.1:1${p}`);
  return {
    method,
    url,
    path: url.pathname,
    query: url.searchParams,
    headers: {},
    body: undefined,
    rawBody: Buffer.alloc(0),
    params: {},
  };
};

test('router: case-insensitive literal segments, decoded params, wildcard, method, pre-handlers, thrown errors', async () => {
  const r = new Router();
  r.add('GET', '/subscriptions/:sub/resourceGroups/:rg/models/:name', (q) => ({ status: 200, body: q.params }));
  r.add('*', '/mlflow/*', (q) => ({ status: 200, body: { rest: q.params['*'] } }));
  r.add('PUT', '/boom', () => fail(409, 'Conflict', 'nope'));
  assert.deepEqual((await r.handle(req('GET', '/SUBSCRIPTIONS/s1/resourcegroups/rg%20x/MODELS/m'))).body, {
    sub: 's1',
    rg: 'rg x',
    name: 'm',
  });
  assert.equal((await r.handle(req('POST', '/subscriptions/s1/resourceGroups/rg/models/m'))).status, 404);
  assert.deepEqual((await r.handle(req('POST', '/mlflow/v1.0/a/b'))).body, { rest: 'v1.0/a/b' });
  const c = await r.handle(req('PUT', '/boom'));
  assert.equal(c.status, 409);
  assert.deepEqual(c.body, { error: { code: 'Conflict', message: 'nope' } });
  let seen: boolean | undefined;
  r.use((_q, matched) => {
    seen = matched;
    return matched ? undefined : armError(418, 'Teapot', 'x');
  });
  assert.equal((await r.handle(req('GET', '/nothing'))).status, 418);
  assert.equal(seen, false);
  assert.equal((await r.handle(req('GET', '/subscriptions/a/resourceGroups/b/models/c'))).status, 200);
  assert.equal(seen, true);
});

test('store: persists per kind under the state folder, ids case-insensitive, prefix listing, copies out', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiab-store-'));
  try {
    const a = new Store(dir);
    a.put('models', '/Subscriptions/S/Models/A', { name: 'A', n: 1 });
    a.put('models', '/subscriptions/s/models/b', { name: 'b', n: 2 });
    a.put('other', '/subscriptions/s/models/c', { name: 'c' });
    const got = a.get<{ n: number }>('models', '/SUBSCRIPTIONS/s/models/a')!;
    got.n = 99; // a copy
    assert.equal(a.get<{ n: number }>('models', '/subscriptions/s/models/a')!.n, 1);
    const b = new Store(dir); // "restart"
    assert.deepEqual(
      b.list<{ name: string }>('models', '/subscriptions/S/').map((m) => m.name),
      ['A', 'b'],
    );
    assert.equal(b.delete('models', '/subscriptions/s/models/A'), true);
    assert.equal(b.delete('models', '/subscriptions/s/models/A'), false);
    assert.equal(new Store(dir).list('models').length, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('faults: off by default, rate 1 always faults, hosts/path filters, maxConsecutive caps streaks', () => {
  const f = new Faults();
  const kind = (host: string, path: string) => f.pick(host, path)?.kind;
  assert.equal(f.pick('arm', '/x'), undefined);
  f.set({ rate: 1, kinds: ['503'] });
  assert.equal(kind('arm', '/x'), '503');
  f.set({ rate: 1, hosts: ['entra'] });
  assert.equal(kind('arm', '/x'), undefined);
  f.set({ rate: 1, pathFilter: /models/, kinds: ['drop'] });
  assert.equal(kind('arm', '/x'), undefined);
  assert.equal(kind('arm', '/models/a'), 'drop');
  f.set({ rate: 1, maxConsecutive: 2, kinds: ['429'] });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => kind('arm', '/')),
    ['429', '429', undefined, '429', '429', undefined],
  );
  assert.deepEqual(
    f.injected,
    { '503': 1, drop: 1, '429': 4 },
    'counts since the last reset, replaced configurations included',
  );
  f.set({ latencyMs: 30, hosts: ['arm'] });
  assert.equal(f.latency('arm', '/'), 30);
  assert.equal(f.latency('devops', '/'), 0);
  f.reset();
  assert.equal(f.pick('arm', '/'), undefined);
  assert.deepEqual(f.injected, {});
});

test('faults: lanes side by side — the first matching lane decides, each with its own seeded stream and counts', () => {
  const f = new Faults();
  const a = f.add({ rate: 0.5, kinds: ['500'], pathFilter: /^\/a$/, seed: 7 });
  const b = f.add({ rate: 1, kinds: ['429'], pathFilter: /^\/b$/, retryAfterSeconds: null });
  // lane a alone, same seed → the same decisions as a lane that never shared the box
  const alone = new Faults();
  alone.set({ rate: 0.5, kinds: ['500'], pathFilter: /^\/a$/, seed: 7 });
  const seqA: Array<string | undefined> = [];
  const seqAlone: Array<string | undefined> = [];
  for (let i = 0; i < 20; i++) {
    seqA.push(f.pick('arm', '/a')?.kind);
    assert.deepEqual(f.pick('arm', '/b'), { kind: '429', retryAfterSeconds: null });
    seqAlone.push(alone.pick('arm', '/a')?.kind);
  }
  assert.deepEqual(seqA, seqAlone);
  assert.ok(seqA.includes('500') && seqA.includes(undefined), seqA.join(','));
  assert.equal(f.pick('arm', '/c'), undefined, 'no lane matches');
  assert.deepEqual(b.injected, { '429': 20 });
  assert.equal(a.injected['500'], seqA.filter((k) => k === '500').length);
  a.remove();
  assert.equal(f.pick('arm', '/a'), undefined, 'a removed lane injects nothing');
  assert.equal(f.injected['500'], seqA.filter((k) => k === '500').length, 'its count stays in the total');
});

test('paging: page size 20 or $top, absolute nextLink with $skip kept literal', () => {
  const ctx = { armUrl: 'https://127.0.0.1:9/' } as EmulatorContext;
  const items = Array.from({ length: 45 }, (_, i) => i);
  const p1 = page(ctx, req('GET', '/subscriptions/s/x?api-version=2022-10-01&$orderBy=createdtime%20desc'), items);
  assert.equal(p1.value.length, 20);
  assert.equal(
    p1.nextLink,
    'https://127.0.0.1:9/subscriptions/s/x?api-version=2022-10-01&$orderBy=createdtime%20desc&$skip=20',
  );
  const p3 = page(ctx, req('GET', '/subscriptions/s/x?api-version=1&$skip=40'), items);
  assert.deepEqual(p3.value, [40, 41, 42, 43, 44]);
  assert.equal(p3.nextLink, undefined);
  const t = page(ctx, req('GET', '/subscriptions/s/x?$top=5&$skip=5'), items);
  assert.deepEqual(t.value, [5, 6, 7, 8, 9]);
  assert.match(t.nextLink!, /\$top=5&\$skip=10$/);
});

test('tag filters and version ordering', () => {
  assert.equal(matchesKv('a=1,b', { a: '1', b: 'x' }), true);
  assert.equal(matchesKv('a=2', { a: '1' }), false);
  assert.equal(matchesKv('c', { a: '1' }), false);
  assert.equal(matchesKv(null, undefined), true);
  assert.deepEqual(['10', '9', '2', 'b', 'a'].sort(compareVersions).slice(0, 3), ['2', '9', '10']);
});

test('jwt: RS256 and PS256 round trip; tampering or another key fails', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  for (const alg of ['RS256', 'PS256']) {
    const t = signJwt({ sub: 'x', n: 1 }, privateKey, { alg });
    const d = decodeJwt(t)!;
    assert.equal(d.header.alg, alg);
    assert.equal(verifySignature(d, publicKey), true);
    assert.equal(verifySignature(d, other), false);
    const parts = t.split('.');
    const forged = decodeJwt(
      `${parts[0]}.${Buffer.from(JSON.stringify({ sub: 'y', n: 1 })).toString('base64url')}.${parts[2]}`,
    )!;
    assert.equal(verifySignature(forged, publicKey), false);
  }
  assert.equal(decodeJwt('not.a-jwt'), undefined);
});

test('resolve-localhost preload: *.localhost → 127.0.0.1 (callback, promise, all), other names untouched', () => {
  const preload = path.resolve(__dirname, '..', 'emulator', 'resolve-localhost.cjs');
  const script = `
    const dns = require('node:dns');
    (async () => {
      const a = await new Promise((res, rej) => dns.lookup('devstoreaccount1.blob.localhost', (e, addr, fam) => e ? rej(e) : res([addr, fam])));
      const b = await dns.promises.lookup('x.y.LOCALHOST', { all: true });
      let c = 'resolved';
      try { await dns.promises.lookup('no-such-host.invalid'); } catch (e) { c = e.code; }
      console.log(JSON.stringify({ a, b, c }));
    })();`;
  const r = spawnSync(process.execPath, ['--require', preload, '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual(o.a, ['127.0.0.1', 4]);
  assert.deepEqual(o.b, [{ address: '127.0.0.1', family: 4 }]);
  assert.notEqual(o.c, 'resolved');
});
