// bench/rolloutReads.ts: how one rollout's request log is cut into phases (prepare, smoke, traffic steps, finish).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutRollout, probesFromLog } from '../../bench/rolloutReads';

const ARM = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';
const q = (host: string, method: string, url: string) => ({ host, method, url, status: 200, time: '' });
const ep = (m: string) => q('arm', m, `${ARM}/onlineEndpoints/ep?api-version=2022-10-01`);
const score = () => q('inference', 'POST', '/endpoints/ep/score');
const metrics = () =>
  q(
    'arm',
    'GET',
    `${ARM}/onlineEndpoints/ep/providers/Microsoft.Insights/metrics?api-version=2024-02-01&metricnames=x`,
  );
const lro = () =>
  q(
    'arm',
    'GET',
    '/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/1?api-version=2022-10-01',
  );
const dep = (m: string) => q('arm', m, `${ARM}/onlineEndpoints/ep/deployments/green?api-version=2022-10-01`);

test('cutRollout: a step starts at the endpoint GET before its traffic PUT; the smoke test is the probes before the first step; finish follows the last probe or metrics read', () => {
  const step = () => [ep('GET'), ep('PUT'), lro(), ep('GET'), dep('GET'), score(), score(), metrics(), metrics()];
  const log = [
    q('arm', 'GET', `${ARM}?api-version=2022-10-01`),
    ep('GET'),
    dep('PUT'),
    lro(),
    lro(),
    dep('GET'),
    q('arm', 'POST', `${ARM}/onlineEndpoints/ep/listKeys`),
    score(),
    score(),
    score(),
    ...step(),
    ...step(),
    q('arm', 'PATCH', `${ARM}/models/m/versions/1`),
    q('arm', 'GET', `${ARM}/models/m/versions/1`),
  ];
  const phases = cutRollout(log, 'ep', [
    { probes: 3, sent: 3 },
    { probes: 2, sent: 2 },
    { probes: 2, sent: 2 },
  ]);
  assert.deepEqual(
    phases.map((p) => [p.phase, p.probes, p.taskSent, p.sent, p.armReads, p.lroReads, p.metricsReads, p.armWrites]),
    [
      ['prepare', 0, 0, 0, 5, 2, 0, 2],
      ['smoke', 3, 3, 3, 0, 0, 0, 0],
      ['step 1', 2, 2, 2, 4, 1, 2, 1],
      ['step 2', 2, 2, 2, 4, 1, 2, 1],
      ['finish', 0, 0, 0, 1, 0, 0, 1],
    ],
  );
});

test('cutRollout: no smoke test (no probes before the first step) and a Kubernetes step without metrics reads', () => {
  const log = [dep('PUT'), lro(), ep('GET'), ep('PUT'), dep('GET'), score(), q('arm', 'GET', `${ARM}/models/m`)];
  const phases = cutRollout(log, 'ep', [{ probes: 1, sent: 1 }]);
  assert.deepEqual(
    phases.map((p) => [p.phase, p.sent, p.armReads, p.armWrites]),
    [
      ['prepare', 0, 1, 1],
      ['smoke', 0, 0, 0],
      ['step 1', 1, 2, 1],
      ['finish', 0, 1, 0],
    ],
  );
});

test('probesFromLog reads the probe and request counts of each judged phase', () => {
  const out = [
    'Smoke test: 5/5 OK, p50 2 ms; 5 probe(s), 6 request(s) sent: 5 passed, 0 failed, 1 inconclusive (throttled 1) → PASSED: …',
    '##[section]Traffic step 1/1: green 100%',
    'Health check at 100%: 5/5 OK, p50 2 ms; 5 probe(s), 5 request(s) sent: 5 passed, 0 failed, 0 inconclusive → PASSED: …',
    'Metrics at 100%: deployment green served 10 request(s)',
  ].join('\n');
  assert.deepEqual(probesFromLog(out), [
    { probes: 5, sent: 6 },
    { probes: 5, sent: 5 },
  ]);
});
