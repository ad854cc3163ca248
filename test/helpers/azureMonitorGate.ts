// The built-in "Query Azure Monitor alerts" gate/check (microsoft/azure-pipelines-tasks Tasks/AzureMonitorV1, copied in
// test/fixtures/third-party/azure-pipelines-tasks/) played the way the Azure DevOps server runs it: its own task.json's
// `execution.HttpRequest.Execute` — the EndpointUrl template with the inputs (task.json defaults unless given), the GET
// with the connection's ARM token, and the success criteria `Expression`.
//
// Template expansion (the server's; SOURCE for the order, `$(…)` macros then `{{…}}`: test/emulator/devops/serverJobs.ts):
// `$(name)` → an input or `endpoint.url`; `{{name}}` → `subscriptionId` or an input; `{{#if name}}…{{/if}}` → kept when
// the input is not empty; `{{#equals 'a' 'b' 1}}…{{/equals}}` → kept when a equals b (case-insensitive). ASSUMPTIONS: the
// template opens `{{#if monitorCondition}}` once more than it closes; a block left open runs to the end of the template
// (the gate works in production with the defaults, which all are non-empty, so the URL is the same either way); the
// alert-rule picker's value is `metricAlerts/<rule name>` (its resultTemplate strips `Microsoft.Insights` from the type).
// The expression: only the one AzureMonitorV1 has, `eq(count(jsonpath('$.value[*]')), 0)`, is understood (checked verbatim).
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const AZURE_MONITOR_TASK = JSON.parse(
  fs.readFileSync(
    path.join(ROOT, 'test/fixtures/third-party/azure-pipelines-tasks/Tasks/AzureMonitorV1/task.json'),
    'utf8',
  ),
);
const EXPRESSION = "eq(count(jsonpath('$.value[*]')), 0)";

type Node = { text: string } | { block: 'if' | 'equals'; args: string[]; body: Node[] } | { name: string };

function parse(t: string): Node[] {
  const root: Node[] = [];
  const stack: Array<{ body: Node[] }> = [{ body: root }];
  const re = /\{\{(#if|#equals|\/if|\/equals)?\s*([^}]*)\}\}/g;
  let at = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const top = stack[stack.length - 1].body;
    if (m.index > at) top.push({ text: t.slice(at, m.index) });
    at = m.index + m[0].length;
    if (m[1] === '#if' || m[1] === '#equals') {
      const args = [...m[2].matchAll(/'([^']*)'|(\S+)/g)].map((a) => a[1] ?? a[2]);
      const n = { block: m[1].slice(1) as 'if' | 'equals', args, body: [] as Node[] };
      top.push(n);
      stack.push(n);
    } else if (m[1]) {
      if (stack.length > 1) stack.pop();
    } else top.push({ name: m[2].trim() });
  }
  if (at < t.length) stack[stack.length - 1].body.push({ text: t.slice(at) });
  return root;
}

function render(nodes: Node[], v: (name: string) => string): string {
  return nodes
    .map((n) => {
      if ('text' in n) return n.text;
      if ('name' in n) return v(n.name);
      if (n.block === 'if') return v(n.args[0]) ? render(n.body, v) : '';
      return n.args[0].toLowerCase() === n.args[1].toLowerCase() ? render(n.body, v) : '';
    })
    .join('');
}

/** The URL the gate sends for these inputs (defaults from the task.json), against a connection's ARM URL and subscription. */
export function gateUrl(given: Record<string, string>, conn: { url: string; subscriptionId: string }): string {
  const inputs: Record<string, string> = {};
  for (const i of AZURE_MONITOR_TASK.inputs as Array<{ name: string; defaultValue?: string }>)
    inputs[i.name.toLowerCase()] = i.defaultValue ?? '';
  for (const [k, val] of Object.entries(given)) inputs[k.toLowerCase()] = val;
  const template: string = AZURE_MONITOR_TASK.execution.HttpRequest.Execute.EndpointUrl;
  const macros = template.replace(/\$\(([^)]+)\)/g, (m, n: string) =>
    n.toLowerCase() === 'endpoint.url' ? conn.url : (inputs[n.toLowerCase()] ?? m),
  );
  return render(parse(macros), (name) =>
    name === 'subscriptionId' ? conn.subscriptionId : (inputs[name.toLowerCase()] ?? ''),
  );
}

export interface GateRun {
  url: string;
  status: number;
  body: any;
  alerts: number;
  passed: boolean;
}

/** One evaluation of the gate: GET with the token, then the task's success criteria. */
export async function runAzureMonitorGate(
  given: Record<string, string>,
  conn: { url: string; subscriptionId: string; token: string },
): Promise<GateRun> {
  const exec = AZURE_MONITOR_TASK.execution.HttpRequest.Execute;
  if (exec.Expression !== EXPRESSION || exec.Method !== 'GET')
    throw new Error(`AzureMonitorV1's request changed (${exec.Method} ${exec.Expression}): update this helper`);
  const url = gateUrl(given, conn);
  const r = await fetch(url, { headers: { authorization: `Bearer ${conn.token}` } });
  const text = await r.text();
  const body = text ? JSON.parse(text) : undefined;
  const alerts = Array.isArray(body?.value) ? body.value.length : 0;
  return { url, status: r.status, body, alerts, passed: r.status === 200 && alerts === 0 };
}
