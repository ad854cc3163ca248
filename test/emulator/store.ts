// Resource state of Azure-in-a-box, persisted as one JSON file per kind under <stateDir>/store/.
// Ids are case-insensitive like ARM ids (keys are lower-cased; values keep their original spelling).
import fs from 'node:fs';
import path from 'node:path';

export class Store {
  private kinds = new Map<string, Map<string, unknown>>();
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'store');
    fs.mkdirSync(this.dir, { recursive: true });
  }

  private file(kind: string): string {
    return path.join(this.dir, `${encodeURIComponent(kind)}.json`);
  }

  private load(kind: string): Map<string, unknown> {
    let m = this.kinds.get(kind);
    if (!m) {
      m = new Map();
      const f = this.file(kind);
      if (fs.existsSync(f)) {
        const obj = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
        for (const [k, v] of Object.entries(obj)) m.set(k, v);
      }
      this.kinds.set(kind, m);
    }
    return m;
  }

  private save(kind: string): void {
    const m = this.load(kind);
    const f = this.file(kind);
    const tmp = `${f}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(m), null, 1));
    fs.renameSync(tmp, f);
  }

  get<T>(kind: string, id: string): T | undefined {
    const v = this.load(kind).get(id.toLowerCase());
    return v === undefined ? undefined : (structuredClone(v) as T);
  }

  put(kind: string, id: string, v: unknown): void {
    this.load(kind).set(id.toLowerCase(), structuredClone(v));
    this.save(kind);
  }

  delete(kind: string, id: string): boolean {
    const ok = this.load(kind).delete(id.toLowerCase());
    if (ok) this.save(kind);
    return ok;
  }

  /** values whose id starts with prefix (case-insensitive), in insertion order */
  list<T>(kind: string, prefix?: string): T[] {
    const p = prefix?.toLowerCase();
    const out: T[] = [];
    for (const [k, v] of this.load(kind)) if (!p || k.startsWith(p)) out.push(structuredClone(v) as T);
    return out;
  }

  /** ids (lower-cased) under prefix */
  keys(kind: string, prefix?: string): string[] {
    const p = prefix?.toLowerCase();
    return [...this.load(kind).keys()].filter((k) => !p || k.startsWith(p));
  }
}
