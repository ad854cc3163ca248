// Traffic arithmetic of the rollout: the steps input, each step's traffic map, and the map a rollback PUTs. Pure.
import { InputError } from '../../pipeline';

/** `10,50,100` → [10, 50, 100]: whole percentages 1..100, strictly increasing, ending at 100 (empty → [100]). */
export function parseTrafficSteps(text: string | undefined): number[] {
  const parts = (text ?? '')
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.length) return [100];
  const steps: number[] = [];
  for (const p of parts) {
    const t = p.replace(/%$/, '');
    if (!/^\d+$/.test(t)) throw new InputError('trafficSteps', `'${p}' is not a whole percentage (use e.g. 10,50,100)`);
    const n = Number(t);
    if (n < 1 || n > 100) throw new InputError('trafficSteps', `${n} is not between 1 and 100`);
    if (steps.length && n <= steps[steps.length - 1]!)
      throw new InputError('trafficSteps', `steps must increase: ${n} comes after ${steps[steps.length - 1]}`);
    steps.push(n);
  }
  if (steps[steps.length - 1] !== 100)
    throw new InputError(
      'trafficSteps',
      `the last step must be 100 (got ${steps.join(',')}); the rollout ends with all traffic on the new deployment`,
    );
  return steps;
}

/** Traffic with `pct` on `target` and the rest split over the other live deployments by their current weights. */
export function stepTraffic(before: Record<string, number>, target: string, pct: number): Record<string, number> {
  const others = Object.entries(before).filter(([k, v]) => k.toLowerCase() !== target.toLowerCase() && v > 0);
  const out: Record<string, number> = {};
  for (const [k] of Object.entries(before)) if (k.toLowerCase() !== target.toLowerCase()) out[k] = 0;
  const sum = others.reduce((a, [, v]) => a + v, 0);
  if (pct >= 100 || sum === 0) {
    out[target] = 100;
    return out;
  }
  const remaining = 100 - pct;
  const shares = others.map(([k, v]) => ({ k, exact: (v * remaining) / sum }));
  let given = 0;
  for (const s of shares) {
    out[s.k] = Math.floor(s.exact);
    given += out[s.k]!;
  }
  // largest remainder, ties by name, so the map always sums to 100
  const order = [...shares].sort(
    (a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || a.k.localeCompare(b.k),
  );
  for (let i = 0; given < remaining; i++, given++) out[order[i % order.length]!.k]! += 1;
  out[target] = pct;
  return out;
}

/** True when two traffic maps route the same (absent = 0, names case-insensitive). */
export function sameTraffic(a: Record<string, number>, b: Record<string, number>): boolean {
  const norm = (m: Record<string, number>) => {
    const o = new Map<string, number>();
    for (const [k, v] of Object.entries(m)) if (v) o.set(k.toLowerCase(), v);
    return o;
  };
  const x = norm(a),
    y = norm(b);
  if (x.size !== y.size) return false;
  for (const [k, v] of x) if (y.get(k) !== v) return false;
  return true;
}

/**
 * The traffic to PUT to get back to `saved`, or undefined when `current` already routes the same. Deployments that no
 * longer exist cannot be named in a traffic map; their share is dropped (the rollback says so).
 */
export function rollbackTraffic(
  saved: Record<string, number>,
  current: Record<string, number>,
  existing: readonly string[],
): { traffic: Record<string, number>; dropped: string[] } | undefined {
  if (sameTraffic(saved, current)) return undefined;
  const live = new Set(existing.map((n) => n.toLowerCase()));
  const traffic: Record<string, number> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(saved)) {
    if (live.has(k.toLowerCase())) traffic[k] = v;
    else if (v > 0) dropped.push(k);
  }
  // everything the saved map does not name goes back to 0
  for (const k of Object.keys(current)) if (!(k in traffic) && live.has(k.toLowerCase())) traffic[k] = 0;
  return { traffic, dropped };
}

export function fmtTraffic(t: Record<string, number>): string {
  const e = Object.entries(t).filter(([, v]) => v > 0);
  return e.length ? e.map(([k, v]) => `${k} ${v}%`).join(', ') : 'no traffic';
}
