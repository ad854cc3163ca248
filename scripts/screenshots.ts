// `npm run screenshots` (tsx scripts/screenshots.ts [--demo-output <dir>] [--out images/screenshots]):
// the marketplace page's pictures, made from REAL demo output — the markdown summaries the tasks uploaded and the
// key lines of their logs, as captured by `npm run demo` in .azure-in-a-box/demo-output/demo-run.json — rendered the
// way Azure DevOps shows them (summary markdown in a run's "Extensions" tab / a release's summary, the log viewer),
// in headless Chromium, into images/screenshots/*.png.
//
// Needs chromium and an emoji font (apt-get install -y chromium fonts-noto-color-emoji; pngquant optional, for smaller
// files). Not part of build or tests; the PNGs are committed.
// The markdown renderer below covers what Azure DevOps renders in summaries (GFM subset: headings, paragraphs,
// tables, lists, code, emphasis, links); the project has no markdown dependency and this is a dev-only tool.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..');

// ---------------------------------------------------------------------------------------------------------------
// Markdown (GFM subset) → HTML

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function inline(md: string): string {
  const codes: string[] = [];
  let s = md.replace(/`([^`]+)`/g, (_m, c: string) => `\u0000${codes.push(`<code>${esc(c)}</code>`) - 1}\u0000`);
  const escapes: string[] = [];
  s = s.replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, (_m, c: string) => `\u0001${escapes.push(esc(c)) - 1}\u0001`);
  const brs: string[] = [];
  s = s.replace(/<br\s*\/?>/gi, () => `\u0002${brs.push('<br>') - 1}\u0002`);
  s = s
    .replace(/&(?![a-z]+;|#\d+;)/gi, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
  s = s.replace(
    /\[([^\]]+)\]\(([^)\s]+)\)/g,
    (_m, t: string, u: string) => `<a href="${u.replace(/"/g, '%22')}">${t}</a>`,
  );
  s = s
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__([^_]+)__(?=[^\w]|$)/g, '$1<strong>$2</strong>');
  s = s
    .replace(/(^|[^\w*])\*([^*\s][^*]*)\*(?=[^\w*]|$)/g, '$1<em>$2</em>')
    .replace(/(^|[^\w])_([^_\s][^_]*)_(?=[^\w]|$)/g, '$1<em>$2</em>');
  s = s.replace(/\u0002(\d+)\u0002/g, (_m, i: string) => brs[Number(i)]!);
  s = s.replace(/\u0001(\d+)\u0001/g, (_m, i: string) => escapes[Number(i)]!);
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => codes[Number(i)]!);
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let code = false;
  const body = line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && body[i + 1] === '|') {
      cur += '\\|';
      i++;
      continue;
    }
    if (ch === '`') code = !code;
    if (ch === '|' && !code) {
      cells.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

export function markdownToHtml(md: string): string {
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^```/.test(line)) {
      flush();
      const code: string[] = [];
      while (++i < lines.length && !/^```/.test(lines[i]!)) code.push(lines[i]!);
      out.push(`<pre><code>${esc(code.join('\n'))}</code></pre>`);
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      out.push(`<h${h[1]!.length}>${inline(h[2]!)}</h${h[1]!.length}>`);
      continue;
    }
    if (/^\s*\|/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1]!)) {
      flush();
      const head = splitRow(line);
      const aligns = splitRow(lines[i + 1]!).map((c) => (/^:-+:$/.test(c) ? 'center' : /-:$/.test(c) ? 'right' : ''));
      i++;
      const rows: string[][] = [];
      while (i + 1 < lines.length && /^\s*\|/.test(lines[i + 1]!)) rows.push(splitRow(lines[++i]!));
      const th = head.every((c) => !c)
        ? ''
        : `<thead><tr>${head.map((c, n) => `<th${aligns[n] ? ` style="text-align:${aligns[n]}"` : ''}>${inline(c)}</th>`).join('')}</tr></thead>`;
      out.push(
        `<table>${th}<tbody>${rows.map((r) => `<tr>${r.map((c, n) => `<td${aligns[n] ? ` style="text-align:${aligns[n]}"` : ''}>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
      );
      continue;
    }
    const li = /^(\s*)([-*+]|\d+\.)\s+(.*)$/.exec(line);
    if (li) {
      flush();
      const ordered = /\d/.test(li[2]!);
      const items = [li[3]!];
      while (i + 1 < lines.length && /^(\s*)([-*+]|\d+\.)\s+/.test(lines[i + 1]!))
        items.push(lines[++i]!.replace(/^(\s*)([-*+]|\d+\.)\s+/, ''));
      out.push(
        `<${ordered ? 'ol' : 'ul'}>${items.map((t) => `<li>${inline(t)}</li>`).join('')}</${ordered ? 'ol' : 'ul'}>`,
      );
      continue;
    }
    if (/^\s*(---+|\*\*\*+)\s*$/.test(line)) {
      flush();
      out.push('<hr>');
      continue;
    }
    if (/^>\s?/.test(line)) {
      flush();
      out.push(`<blockquote>${inline(line.replace(/^>\s?/, ''))}</blockquote>`);
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    para.push(line.trim());
  }
  flush();
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Pages, in the look of Azure DevOps (light theme)

const CSS = `
* { box-sizing: border-box; } #root { overflow: hidden; }
body { margin: 0; background: #f8f8f8; font-family: "Segoe UI", "Liberation Sans", "DejaVu Sans", "Noto Color Emoji", sans-serif; font-size: 14px; color: rgba(0,0,0,.9); }
.top { height: 48px; background: #fff; border-bottom: 1px solid #eaeaea; display: flex; align-items: center; padding: 0 20px; gap: 10px; font-size: 14px; color: rgba(0,0,0,.55); }
.top .logo { width: 22px; height: 22px; border-radius: 3px; background: linear-gradient(135deg,#0078d4,#2b88d8); }
.top b { color: rgba(0,0,0,.9); font-weight: 600; }
.head { padding: 16px 28px 12px; background: #fff; }
.head h1 { margin: 0 0 4px; font-size: 21px; font-weight: 600; display: flex; align-items: center; gap: 10px; }
.ok { width: 20px; height: 20px; border-radius: 50%; background: #107c10; color: #fff; display: inline-flex; align-items: center; justify-content: center; font-size: 13px; }
.head .sub { color: rgba(0,0,0,.55); font-size: 13px; }
.tabs { display: flex; gap: 24px; border-bottom: 1px solid #eaeaea; padding: 0 28px; background: #fff; }
.tabs span { padding: 10px 0; color: rgba(0,0,0,.55); }
.tabs span.on { color: rgba(0,0,0,.9); font-weight: 600; border-bottom: 2px solid #0078d4; }
.main { padding: 20px 28px 28px; }
.card { background: #fff; border-radius: 4px; box-shadow: 0 1.6px 3.6px rgba(0,0,0,.13), 0 .3px .9px rgba(0,0,0,.11); margin-bottom: 16px; }
.card > .title { padding: 14px 20px 10px; font-size: 16px; font-weight: 600; border-bottom: 1px solid #f0f0f0; }
.md { padding: 6px 20px 16px; line-height: 1.5; }
.md h1,.md h2,.md h3,.md h4 { font-weight: 600; margin: 14px 0 8px; } .md h1 { font-size: 20px; } .md h2 { font-size: 18px; } .md h3 { font-size: 16px; } .md h4 { font-size: 14px; }
.md p { margin: 8px 0; } .md a { color: #0078d4; text-decoration: none; }
.md code { font-family: "Cascadia Mono", "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12.5px; background: #f4f4f4; padding: 1px 4px; border-radius: 2px; }
.md pre { background: #f4f4f4; padding: 10px; overflow: hidden; } .md pre code { background: none; padding: 0; }
.md table { border-collapse: collapse; margin: 10px 0; } .md th,.md td { border: 1px solid #e0e0e0; padding: 5px 10px; text-align: left; vertical-align: top; }
.md th { background: #f8f8f8; font-weight: 600; } .md ul,.md ol { margin: 6px 0; padding-left: 22px; }
.md blockquote { margin: 8px 0; padding: 4px 12px; border-left: 3px solid #c8c8c8; color: rgba(0,0,0,.65); }
.log { background: #fff; font-family: "Cascadia Mono", "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12.5px; line-height: 20px; padding: 8px 0; }
.log .l { display: flex; white-space: pre; } .log .n { width: 48px; text-align: right; padding-right: 14px; color: rgba(0,0,0,.4); flex: none; user-select: none; }
.log .sec { color: #107c10; font-weight: 600; } .log .err { color: #a4262c; } .log .warn { color: #8a6d00; } .log .cmd { color: #0078d4; }
.steps { width: 280px; flex: none; background: #fff; border-right: 1px solid #eaeaea; padding: 10px 0; }
.steps div { padding: 7px 16px; display: flex; gap: 8px; align-items: center; color: rgba(0,0,0,.8); } .steps div.on { background: #eff6fc; font-weight: 600; }
.steps .ok { width: 16px; height: 16px; font-size: 10px; }
.split { display: flex; min-height: 100%; }
`;

function page(body: string, width: number): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${CSS} body { width: ${width}px; }</style>
<script>addEventListener('load', () => { const m = document.createElement('meta'); m.name = 'content-height'; m.content = String(Math.ceil(document.getElementById('root').getBoundingClientRect().height)); document.head.appendChild(m); });</script>
</head><body><div id="root">${body}</div></body></html>`;
}

export interface SummaryShot {
  kind: 'summary';
  file: string;
  frame: 'build' | 'release';
  runTitle: string;
  runSub: string;
  cards: Array<{ title: string; markdown: string }>;
  width?: number;
}
export interface LogShot {
  kind: 'log';
  file: string;
  release?: boolean;
  runTitle: string;
  runSub: string;
  steps: string[];
  current: string;
  lines: string[];
  width?: number;
}
export type Shot = SummaryShot | LogShot;

export function renderShot(s: Shot): string {
  const width = s.width ?? 1100;
  const top = `<div class="top"><div class="logo"></div><b>contoso</b> / ml-project / ${(s.kind === 'summary' ? s.frame === 'release' : s.release) ? 'Releases' : 'Pipelines'}</div>`;
  if (s.kind === 'summary') {
    const tabs =
      s.frame === 'release'
        ? ['Pipeline', 'Tasks', 'Variables', 'Logs', 'Tests', 'Summary']
        : ['Summary', 'Tests', 'Extensions', 'Releases'];
    const on = s.frame === 'release' ? 'Summary' : 'Extensions';
    return page(
      `${top}<div class="head"><h1><span class="ok">✓</span>${esc(s.runTitle)}</h1><div class="sub">${esc(s.runSub)}</div></div>
<div class="tabs">${tabs.map((t) => `<span${t === on ? ' class="on"' : ''}>${t}</span>`).join('')}</div>
<div class="main">${s.cards.map((c) => `<div class="card"><div class="title">${esc(c.title)}</div><div class="md">${markdownToHtml(c.markdown)}</div></div>`).join('')}</div>`,
      width,
    );
  }
  const lineHtml = s.lines
    .map((l, i) => {
      const cls = /^##\[section\]|^Starting:|^Finishing:/.test(l)
        ? 'sec'
        : /^##\[error\]/.test(l)
          ? 'err'
          : /^##\[warning\]/.test(l)
            ? 'warn'
            : /^##\[command\]/.test(l)
              ? 'cmd'
              : '';
      const text = l.replace(/^##\[(section|error|warning|command)\]/, (_m, k: string) =>
        k === 'error' ? 'Error: ' : k === 'warning' ? 'Warning: ' : '',
      );
      return `<div class="l"><span class="n">${i + 1}</span><span class="${cls}">${esc(text)}</span></div>`;
    })
    .join('');
  return page(
    `${top}<div class="head"><h1><span class="ok">✓</span>${esc(s.runTitle)}</h1><div class="sub">${esc(s.runSub)}</div></div>
<div class="split"><div class="steps">${s.steps.map((t) => `<div${t === s.current ? ' class="on"' : ''}><span class="ok">✓</span>${esc(t)}</div>`).join('')}</div>
<div style="flex:1; min-width:0"><div class="card" style="margin:16px; overflow:hidden"><div class="title">${esc(s.current)}</div><div class="log">${lineHtml}</div></div></div></div>`,
    width,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Chromium

function chromium(): string {
  for (const c of [process.env.CHROME, 'chromium', 'chromium-browser', 'google-chrome']) {
    if (!c) continue;
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  throw new Error('screenshots: chromium not found (apt-get update && apt-get install -y chromium)');
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
  '--force-device-scale-factor=1',
];

/** Renders html to a PNG exactly as tall as the content (measured with --dump-dom, then cropped). */
export function screenshot(html: string, pngOut: string, width: number): { width: number; height: number } {
  const chrome = chromium();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shots-'));
  try {
    const htmlFile = path.join(tmp, 'page.html');
    fs.writeFileSync(htmlFile, html);
    const profile = (n: string) => {
      const d = path.join(tmp, `profile-${n}`);
      fs.mkdirSync(d);
      return `--user-data-dir=${d}`;
    };
    const dom = spawnSync(
      chrome,
      [
        ...FLAGS,
        profile('a'),
        `--window-size=${width},800`,
        '--virtual-time-budget=2000',
        '--dump-dom',
        `file://${htmlFile}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const h = Number(/<meta name="content-height" content="(\d+)"/.exec(dom.stdout ?? '')?.[1]);
    if (!h)
      throw new Error(
        `screenshots: could not measure the page (chromium exit ${dom.status}): ${(dom.stderr ?? '').slice(-400)}`,
      );
    const shot = path.join(tmp, 'shot.png');
    // headless Chromium's viewport is shorter than --window-size: render taller, then keep the top `h` rows
    const r = spawnSync(
      chrome,
      [
        ...FLAGS,
        profile('b'),
        `--window-size=${width},${h + 200}`,
        '--virtual-time-budget=2000',
        `--screenshot=${shot}`,
        `file://${htmlFile}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (!fs.existsSync(shot))
      throw new Error(`screenshots: chromium wrote no screenshot (exit ${r.status}): ${(r.stderr ?? '').slice(-400)}`);
    fs.mkdirSync(path.dirname(pngOut), { recursive: true });
    const crop = spawnSync(
      process.execPath,
      [path.join(ROOT, 'scripts', 'png-crop.mjs'), shot, pngOut, String(width), String(h)],
      { encoding: 'utf8' },
    );
    if (crop.status !== 0) throw new Error(`screenshots: crop failed: ${crop.stderr}`);
    // smaller files for the .vsix: 8-bit palette PNG when pngquant is installed (apt-get install -y pngquant)
    if (spawnSync('sh', ['-c', 'command -v pngquant'], { encoding: 'utf8' }).status === 0) {
      const q = spawnSync(
        'pngquant',
        ['--quality', '70-95', '--speed', '1', '--strip', '--force', '--output', pngOut, pngOut],
        { encoding: 'utf8' },
      );
      if (q.status !== 0 && q.status !== 99) throw new Error(`screenshots: pngquant failed (${q.status}): ${q.stderr}`);
    }
    return { width, height: h };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// From the demo's capture to the marketplace pictures

interface DemoStep {
  id: string;
  title: string;
  task?: string;
  status: string;
  ms: number;
  outputs: Record<string, string>;
  summaries: Array<{ title: string; task: string; markdown: string }>;
  logs: Array<{ task: string; lines: string[] }>;
  facts: Record<string, unknown>;
}
interface DemoRun {
  ok: boolean;
  steps: DemoStep[];
  releaseVariables: Record<string, string>;
  releaseName?: string;
}

/** The pictures to make from a demo run (only those whose material the run has). */
export function shotsFrom(run: DemoRun, outDir: string): Shot[] {
  const step = (id: string) => run.steps.find((s) => s.id === id && s.status === 'ok');
  const summary = (id: string, title: string) => step(id)?.summaries.filter((x) => x.title === title) ?? [];
  const shots: Shot[] = [];
  const rel = run.releaseVariables;
  const releaseName = run.releaseName ?? rel['Release.ReleaseName'] ?? 'Release-1';
  const definition = rel['Release.DefinitionName'] ?? 'diabetes-classifier-cd';
  const buildTitle = '#20261122.3 · azureml-ci';
  const buildSub = 'Individual CI for Ada Lovelace · main · 3f78685';

  // 1. the CI run's Extensions tab: evaluation, registration, release trigger
  const ci = [
    ...summary('evaluate', 'Azure ML model evaluation'),
    ...summary('register', 'Azure ML model'),
    ...summary('trigger', 'Azure ML release trigger'),
  ];
  if (ci.length)
    shots.push({
      kind: 'summary',
      file: path.join(outDir, 'ci-run-summary.png'),
      frame: 'build',
      runTitle: buildTitle,
      runSub: buildSub,
      cards: ci,
    });
  // 2. the release summary approvers read before production: the model card written by the staging deployment
  const card = summary('deploy-staging', 'Model card');
  if (card.length)
    shots.push({
      kind: 'summary',
      file: path.join(outDir, 'release-model-card.png'),
      frame: 'release',
      runTitle: `${releaseName}`,
      runSub: `${definition} · stage staging succeeded · production waits for approval`,
      cards: card,
    });
  // 3. the production rollout summary (blue/green steps) and its model card with the recorded approval
  const prod = [
    ...summary('deploy-aks', 'Azure ML deployment'),
    ...summary('deploy-aks', 'Model card').map((c) => ({ ...c, title: 'Model card (production)' })),
  ];
  if (prod.length)
    shots.push({
      kind: 'summary',
      file: path.join(outDir, 'release-rollout-summary.png'),
      frame: 'release',
      runTitle: `${releaseName}`,
      runSub: `${definition} · stage production (approved) succeeded`,
      cards: prod,
    });
  // 4. pipeline log excerpts: the training job streamed into the CI log, and the AKS blue/green rollout
  const logShot = (
    id: string,
    file: string,
    runTitle: string,
    runSub: string,
    steps: string[],
    current: string,
    max: number,
    task?: string,
  ) => {
    const s = step(id);
    const log = task ? s?.logs.find((l) => l.task === task) : s?.logs[s.logs.length - 1];
    if (!s || !log) return;
    const lines = log.lines.length > max ? [...log.lines.slice(0, max - 8), '…', ...log.lines.slice(-7)] : log.lines;
    shots.push({
      kind: 'log',
      file: path.join(outDir, file),
      release: !['train', 'baseline'].includes(id),
      runTitle,
      runSub,
      steps,
      current,
      lines: [`##[section]Starting: ${current}`, ...lines, `##[section]Finishing: ${current}`],
    });
  };
  // the demo's CI now submits without waiting (the agentless wait follows); the training streamed into an agent's log
  // is the baseline step's AzureMLJob run (an earlier CI run that waited), on a fresh state
  logShot(
    'baseline',
    'log-train.png',
    buildTitle,
    buildSub,
    ['Checkout contoso-ml', 'Train', 'Evaluate against production', 'Register the model', 'Start the CD release'],
    'Train',
    30,
    'AzureMLJob',
  );
  logShot(
    'deploy-aks',
    'log-aks-rollout.png',
    `${releaseName}`,
    `${definition} · stage production`,
    ['Initialize job', 'Download artifact - _diabetes-classifier', 'Blue/green rollout to AKS', 'Finalize Job'],
    'Blue/green rollout to AKS',
    40,
  );
  return shots;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'demo-output': { type: 'string', default: path.join(ROOT, '.azure-in-a-box', 'demo-output') },
      out: { type: 'string', default: path.join(ROOT, 'images', 'screenshots') },
    },
  });
  const runFile = path.join(path.resolve(values['demo-output']!), 'demo-run.json');
  if (!fs.existsSync(runFile)) {
    console.error(`screenshots: ${path.relative(ROOT, runFile)} not found: run npm run demo first`);
    return 1;
  }
  const run = JSON.parse(fs.readFileSync(runFile, 'utf8')) as DemoRun;
  // the pictures show a release happening: a run that took the idempotent path (nothing new) has nothing to show
  if (run.steps.find((s) => s.id === 'register')?.facts.reused) {
    console.error(
      'screenshots: the last demo run took the idempotent path (no new model version): run npm run demo -- --fresh first',
    );
    return 1;
  }
  const shots = shotsFrom(run, path.resolve(values.out!));
  if (!shots.length) {
    console.error('screenshots: the demo run has no summaries or logs to show');
    return 1;
  }
  for (const s of shots) {
    const { width, height } = screenshot(renderShot(s), s.file, s.width ?? 1100);
    console.log(`screenshots: ${path.relative(ROOT, s.file)} (${width}x${height})`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(ROOT, 'scripts', 'screenshots.ts')) {
  main().then(
    (c) => process.exit(c),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
