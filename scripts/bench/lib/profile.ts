/**
 * Reads a V8 .cpuprofile and sums self time by function and by package, so a
 * loss can be named without a browser.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byPackage: Array<[string, number]>;
  byFunction: Array<[string, number]>;
}

const where = (url: string): string => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.includes('/sync-server/')) return `parley:${url.split('/sync-server/src/')[1] ?? 'sync-server'}`;
  if (url.includes('/schema/')) return 'parley:schema';
  if (url.startsWith('node:')) return 'node core';
  return url ? url.replace(/^file:\/\//, '').split('/').slice(-2).join('/') : '(native)';
};

const packageOf = (url: string): string => {
  const place = where(url);
  return place.startsWith('parley:') && place !== 'parley:schema' ? 'parley:sync-server' : place;
};

/** Sums one or several profiles (several windows of the same scenario). */
export function summarizeProfile(files: string | readonly string[]): ProfileSummary {
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const file of typeof files === 'string' ? [files] : files) total += addProfile(file, byFunction, byPackage);
  const sorted = (map: Map<string, number>): Array<[string, number]> => [...map].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, byPackage: sorted(byPackage), byFunction: sorted(byFunction) };
}

function addProfile(file: string, byFunction: Map<string, number>, byPackage: Map<string, number>): number {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (!us) continue;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    // tsx's transform loses line numbers; the file names the function well enough.
    const key = `${functionName || '(anonymous)'} ${where(url)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us / 1000);
    byPackage.set(packageOf(url), (byPackage.get(packageOf(url)) ?? 0) + us / 1000);
  }
  return total / 1000;
}

export function formatSummary(title: string, summary: ProfileSummary, top = 25): string {
  const pct = (ms: number): string => `${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`${title}: ${summary.totalMs.toFixed(0)} ms of CPU sampled (idle excluded)`, '', 'by package:'];
  for (const [name, ms] of summary.byPackage.slice(0, 12)) lines.push(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${name}`);
  lines.push('', 'by function (self time):');
  for (const [name, ms] of summary.byFunction.slice(0, top)) lines.push(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${name}`);
  return lines.join('\n');
}
